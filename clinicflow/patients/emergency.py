"""Emergency ("break-glass") access to a patient's card (AC-05): the refusal page that offers it and
the form that opens a grant. The rules and the grants live in ``clinicflow.accounts.breakglass``;
this module checks that the patient is one of the organisation's before a grant names it."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.accounts.breakglass import (
    PatientAccess,
    access_denied_record,
    break_glass_open,
    patient_access,
)
from clinicflow.accounts.forms import OPENED, BreakGlassForm
from clinicflow.accounts.reauth import TOO_MANY, WRONG_PASSWORD, Recheck, password_recheck
from clinicflow.core.errors import DomainError
from clinicflow.core.models import Organization
from clinicflow.core.web import get_or_404
from clinicflow.patients import selectors
from clinicflow.patients.models import Patient


def access_of(request: AuthedRequest, patient: Patient) -> PatientAccess:
    """The signed-in user's access to ``patient``'s card now."""
    return patient_access(
        org=request.org, user=request.user, patient_id=patient.pk, branch_id=patient.branch_id
    )


def refused(request: AuthedRequest, patient: Patient, access: PatientAccess | None) -> HttpResponse:
    """The 403 page for a card the user may not open (audited as denied); it offers emergency access
    when the user may open a grant."""
    access_denied_record(
        org=request.org, actor=request.user, object_type="patient", object_id=patient.pk, request=request
    )
    offer = access is not None and access.may_break_glass
    page = {"patient_id": patient.pk, "form": BreakGlassForm() if offer else None, "refused": True}
    return render(request, "accounts/break_glass.html", page, status=403)


@require_http_methods(["GET", "POST"])
@require_perm("patients.break_glass", audit_object="patient")
def emergency_access(request: AuthedRequest, patient_id: str) -> HttpResponse:
    """Open a grant on a card the user's role or branch does not show: a reason, a duration and the
    password again (wrong passwords are throttled like every re-authentication)."""
    patient = get_or_404(selectors.patient_get, org=request.org, patient_id=patient_id, with_phones=False)
    if not access_of(request, patient).may_break_glass:
        return redirect("patients:detail", patient_id=patient.pk)
    form = BreakGlassForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            checked = password_recheck(request, request.user, form.cleaned_data["password"])
            if checked is Recheck.OK:
                return _open(request, patient, form)
            status = 429 if checked is Recheck.LOCKED else 422
            form.add_error("password", str(TOO_MANY if checked is Recheck.LOCKED else WRONG_PASSWORD))
    page = {"patient_id": patient.pk, "form": form, "refused": False}
    return render(request, "accounts/break_glass.html", page, status=status)


def _open(request: AuthedRequest, patient: Patient, form: BreakGlassForm) -> HttpResponse:
    try:
        break_glass_open(
            org=request.org,
            user=request.user,
            patient_id=patient.pk,
            branch_id=patient.branch_id,
            reason=form.cleaned_data["reason"],
            minutes=form.cleaned_data["minutes"],
            request=request,
        )
    except DomainError as exc:
        form.add_error("reason" if "reason" in exc.fields else None, exc.message)
        page = {"patient_id": patient.pk, "form": form, "refused": False}
        return render(request, "accounts/break_glass.html", page, status=exc.status)
    messages.warning(request, str(OPENED))
    return redirect("patients:detail", patient_id=patient.pk)


def patient_labels(org: Organization, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Names of the organisation's patients ``ids``, for the list of emergency grants."""
    return {p.pk: p.full_name for p in selectors.patients_named(org=org, ids=ids)}
