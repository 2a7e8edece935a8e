"""Pages of the clinical records: a quote written from a consultation, its PDF (in the patient's
language), and the send / accept / decline actions."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.accounts.breakglass import access_record
from clinicflow.catalogue.selectors import service_list
from clinicflow.clinical.consultation_forms import QuoteForm
from clinicflow.clinical.quote_pdf import quote_pdf
from clinicflow.clinical.selectors import consultations as selectors
from clinicflow.clinical.services import quotes as services
from clinicflow.core.errors import DomainError
from clinicflow.core.models import AuditAction
from clinicflow.core.web import flash_error, get_or_404, render_in_zone
from clinicflow.messaging.rendering import language_for
from clinicflow.patients.emergency import access_of, refused


@require_http_methods(["GET", "POST"])
@require_perm("clinical.record", audit_object="consultation")
def quote_new(request: AuthedRequest, consultation_id: str) -> HttpResponse:
    """Write a quote from the consultation: lines priced from the catalogue today."""
    org, user = request.org, request.user
    c = get_or_404(selectors.consultation_get, org=org, consultation_id=consultation_id)
    access = access_of(request, c.patient)
    if not access.writes:
        return refused(request, c.patient, access)
    form = QuoteForm(request.POST or None, services=service_list(org=org))
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                services.quote_create(
                    org=org,
                    actor=user,
                    consultation=c,
                    lines=form.lines(),
                    valid_until=form.cleaned_data.get("valid_until"),
                    note=form.cleaned_data.get("note") or "",
                    request=request,
                )
            except DomainError as exc:
                form.add_error(None, str(exc.message))  # it names the line and field: lines[2].quantity
            else:
                return redirect("clinical:consultation_detail", consultation_id=c.pk)
    ctx = {"c": c, "form": form, "branch": c.branch}
    return render_in_zone(request, "clinical/consultations/quote_form.html", ctx, status=status)


@require_perm("clinical.view", audit_object="quote")
def quote_pdf_view(request: AuthedRequest, quote_id: str) -> HttpResponse:
    """The quote as PDF in the patient's language (``?lang=`` another of ours)."""
    org, user = request.org, request.user
    quote = get_or_404(selectors.quote_get, org=org, quote_id=quote_id)
    access = access_of(request, quote.patient)
    if not access.opens:
        return refused(request, quote.patient, access)
    access_record(
        access,
        org=org,
        actor=user,
        object_type="quote",
        object_id=quote.pk,
        request=request,
        action=AuditAction.EXPORT,
    )
    language = language_for(request.GET.get("lang") or quote.patient.preferred_language)
    pdf = quote_pdf(
        org=org, quote=quote, lines=selectors.quote_lines(org=org, quote=quote), language=language
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="quote-{quote.pk}.pdf"'
    return response


ACTIONS = {"send": services.quote_send, "accept": services.quote_accept, "decline": services.quote_decline}


@require_POST
@require_perm("clinical.record", audit_object="quote")
def quote_action(request: AuthedRequest, quote_id: str, action: str) -> HttpResponse:
    """Send the quote by e-mail, accept it (booking its procedures) or record that it was declined."""
    org, user = request.org, request.user
    run = ACTIONS.get(action)
    if run is None:
        raise Http404
    quote = get_or_404(selectors.quote_get, org=org, quote_id=quote_id)
    access = access_of(request, quote.patient)
    if not access.writes:
        return refused(request, quote.patient, access)
    try:
        run(org=org, actor=user, quote=quote, request=request)
    except DomainError as exc:
        flash_error(request, exc)
    else:
        done = {
            "send": _("The quote was queued for e-mail."),
            "accept": _("The quote was accepted and booked."),
        }
        messages.success(request, done.get(action, _("Saved.")))
    return redirect("clinical:consultation_detail", consultation_id=quote.consultation_id)


paths: list[URLPattern] = [
    path("consultations/<str:consultation_id>/quote/", quote_new, name="quote_new"),
    path("quotes/<str:quote_id>/pdf/", quote_pdf_view, name="quote_pdf"),
    path("quotes/<str:quote_id>/<slug:action>/", quote_action, name="quote_action"),
]
