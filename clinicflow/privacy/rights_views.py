"""Pages of data-subject rights: the request log with deadlines, a form to act on one patient
(export as a ZIP download, withdraw every consent, erase after confirmation), one request with its
outcome (for an erasure: what was erased, pseudonymised and held, and until when), and the retention
table with a dry run. ``privacy.requests`` (owner, clinic manager). Correction is made on the
patient's card (audited there) or with ``clinicflow privacy correct``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.core.errors import Conflict
from clinicflow.core.web import get_or_404
from clinicflow.patients.selectors import patient_get
from clinicflow.privacy.retention.periods import legal_region, table
from clinicflow.privacy.retention.run import retention_run
from clinicflow.privacy.rights.correct import subject_withdraw
from clinicflow.privacy.rights.erase import subject_erase
from clinicflow.privacy.rights.export import subject_export
from clinicflow.privacy.rights.requests import request_list
from clinicflow.privacy.rights.restrict import subject_restrict, subject_restriction_lift
from clinicflow.privacy.selectors import request_get

PERM = "privacy.requests"
ACTIONS = [
    ("export", gettext_lazy("Export everything held (ZIP: JSON, PDF summary, photos)")),
    ("withdraw", gettext_lazy("Withdraw every consent")),
    ("erase", gettext_lazy("Erase (cannot be undone)")),
    ("restrict", gettext_lazy("Restrict processing")),
    ("lift", gettext_lazy("Lift the restriction of processing")),
]


class RightsForm(forms.Form):
    patient = forms.CharField(label=gettext_lazy("Patient id"), max_length=40)
    action = forms.ChoiceField(label=gettext_lazy("Request"), choices=ACTIONS)
    confirm = forms.BooleanField(label=gettext_lazy("I confirm the erasure"), required=False)
    reason = forms.CharField(
        label=gettext_lazy("Reason (restriction and its lifting)"), max_length=500, required=False
    )


@require_http_methods(["GET", "POST"])
@require_perm(PERM)
def requests_page(request: AuthedRequest) -> HttpResponse:
    form = RightsForm(request.POST or None, initial={"patient": request.GET.get("patient", "")})
    if request.method == "POST" and form.is_valid():
        org = request.org
        patient = get_or_404(patient_get, org=org, patient_id=form.cleaned_data["patient"], with_phones=False)
        action = form.cleaned_data["action"]
        if action == "export":
            archive = subject_export(org=org, actor=request.user, patient=patient, request=request)[1]
            response = HttpResponse(archive, content_type="application/zip")
            response["Content-Disposition"] = f'attachment; filename="patient-{patient.pk}.zip"'
            response["Cache-Control"] = "no-store"
            return response
        if action == "withdraw":
            row = subject_withdraw(org=org, actor=request.user, patient=patient, request=request)
            messages.success(request, _("Consents withdrawn."))
            return redirect("privacy:request", request_id=row.pk)
        if action in ("restrict", "lift"):
            change = subject_restrict if action == "restrict" else subject_restriction_lift
            try:
                row = change(
                    org=org,
                    actor=request.user,
                    patient=patient,
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except Conflict:
                already = _("The patient's processing is restricted already.")
                form.add_error(
                    "action", already if action == "restrict" else _("The patient is not restricted.")
                )
            else:
                messages.success(
                    request, _("Processing restricted.") if action == "restrict" else _("Restriction lifted.")
                )
                return redirect("privacy:request", request_id=row.pk)
        elif not form.cleaned_data["confirm"]:
            form.add_error("confirm", _("Confirm the erasure: it cannot be undone."))
        else:
            row = subject_erase(org=org, actor=request.user, patient=patient, request=request)
            messages.success(request, _("Patient erased; the records the law requires are held."))
            return redirect("privacy:request", request_id=row.pk)
    ctx = {"rows": request_list(org=request.org), "form": form, "now": timezone.now()}
    return render(request, "privacy/requests.html", ctx, status=422 if form.errors else 200)


@require_GET
@require_perm(PERM, audit_object="subject_request")
def request_detail(request: AuthedRequest, request_id: str) -> HttpResponse:
    row = get_or_404(request_get, org=request.org, request_id=request_id)
    return render(request, "privacy/request.html", {"row": row, "now": timezone.now()})


@require_GET
@require_perm(PERM)
def retention_page(request: AuthedRequest) -> HttpResponse:
    ctx = {"table": table(request.org), "region": legal_region(request.org)}
    return render(request, "privacy/retention.html", ctx)


@require_POST
@require_perm(PERM)
def retention_dry_run(request: AuthedRequest) -> HttpResponse:
    run = retention_run(org=request.org, dry_run=True)
    ctx = {"table": table(request.org), "region": legal_region(request.org), "run": run}
    return render(request, "privacy/retention.html", ctx)
