"""The tracking numbers page: the dynamic pool with the visit holding each number now, the static
numbers of offline campaigns, adding and (de)activating numbers; the front desk's web leads with
the possible patient matches to confirm or dismiss. Thin: form → service → render."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.acquisition.forms import add_domain_errors
from clinicflow.acquisition.models import Lead, LeadMatch, NumberPool
from clinicflow.acquisition.tracking import lead_matches, selectors, services
from clinicflow.acquisition.tracking.forms import LeadFilterForm, NumberActiveForm, TrackingNumberForm
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import DomainError
from clinicflow.core.models import AuditAction
from clinicflow.core.web import flash_error, get_or_404, render_in_zone

LEAD_PAGE = 50


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def numbers(request: AuthedRequest) -> HttpResponse:
    """GET: the numbers. POST: add one."""
    org = request.org
    form = TrackingNumberForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        try:
            row = services.tracking_number_add(org=org, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Number %(number)s added.") % {"number": row.e164})
            return redirect("acquisition:numbers")
    rows = list(selectors.tracking_numbers(org=org))
    holders = selectors.number_holders(org=org)
    dynamic = [(n, holders.get(n.pk)) for n in rows if n.pool == NumberPool.DYNAMIC]
    dynamic.sort(key=lambda x: ((x[0].branch.name if x[0].branch else ""), x[0].e164))
    ctx = {
        "form": form,
        "dynamic": dynamic,
        "static": [n for n in rows if n.pool == NumberPool.STATIC],
        "tz": selectors.org_timezone(org=org),
    }
    status = 422 if form.errors else 200
    return render_in_zone(request, "acquisition/marketing/numbers.html", ctx, status=status)


@require_POST
@require_perm("acquisition.manage")
def number_active(request: AuthedRequest, number_id: str) -> HttpResponse:
    number = get_or_404(selectors.tracking_number_get, org=request.org, number_id=number_id)
    form = NumberActiveForm(request.POST)
    active = form.switched_on()
    services.tracking_number_set_active(org=request.org, actor=request.user, number=number, active=active)
    text = _("%(number)s is active again.") if active else _("%(number)s deactivated.")
    messages.success(request, text % {"number": number.e164})
    return redirect("acquisition:numbers")


# --- web leads (front desk) ---------------------------------------------------------------------------------


@require_GET
@require_perm("calls.view")
def leads(request: AuthedRequest) -> HttpResponse:
    """The web-form leads, newest first; a lead whose contact matches a patient card shows that
    patient as a possible match, to confirm or dismiss after speaking to the person."""
    org = request.org
    form = LeadFilterForm(request.GET)
    match = form.match_or_all()
    page = Paginator(selectors.lead_list(org=org, match=match), LEAD_PAGE).get_page(request.GET.get("page"))
    audit_record(org=org, actor=request.user, action=AuditAction.LIST, object_type="lead", request=request)
    ctx = {
        "form": form,
        "page": page,
        "match": match,
        "to_confirm": selectors.lead_list(org=org, match=LeadMatch.POSSIBLE).count(),
        "can_handle": request.user.has_perm_cf("calls.handle"),
        "tz": selectors.org_timezone(org=org),
    }
    return render_in_zone(request, "acquisition/frontdesk/leads.html", ctx)


def _decide(request: AuthedRequest, lead_id: str, confirm: bool) -> HttpResponse:
    lead: Lead = get_or_404(selectors.lead_get, org=request.org, lead_id=lead_id)
    decide = lead_matches.lead_confirm_patient if confirm else lead_matches.lead_dismiss_match
    try:
        decide(org=request.org, actor=request.user, lead=lead, request=request)
    except DomainError as exc:
        flash_error(request, exc)
    else:
        messages.success(
            request, _("The lead is linked to the patient.") if confirm else _("The match was dismissed.")
        )
    return redirect(f"{reverse('acquisition:leads')}?match={LeadMatch.POSSIBLE}")


@require_POST
@require_perm("calls.handle")
def lead_confirm(request: AuthedRequest, lead_id: str) -> HttpResponse:
    """It is this patient: the lead is linked to them (audited)."""
    return _decide(request, lead_id, confirm=True)


@require_POST
@require_perm("calls.handle")
def lead_dismiss(request: AuthedRequest, lead_id: str) -> HttpResponse:
    """Not this patient: nothing is linked (audited)."""
    return _decide(request, lead_id, confirm=False)
