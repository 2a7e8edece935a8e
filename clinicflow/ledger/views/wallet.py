"""The wallet page of a patient (staff): balances per kind and currency, what can be spent now and
what expires when, and the last 100 ledger lines. Reading only; value moves through the API (with
idempotency keys) and, later, checkout. Needs ``wallet.view`` and the patient's card open."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.accounts.breakglass import access_record
from clinicflow.core.models import AuditAction
from clinicflow.core.web import get_or_404, render_in_zone
from clinicflow.ledger.selectors import wallet as selectors
from clinicflow.patients.emergency import access_of, refused
from clinicflow.patients.selectors import patient_get


@require_GET
@require_perm("wallet.view", audit_object="wallet")
def wallet_page(request: AuthedRequest, patient_id: str) -> HttpResponse:
    patient = get_or_404(patient_get, org=request.org, patient_id=patient_id, with_phones=False)
    access = access_of(request, patient)
    if not access.opens or access.break_glass:
        return refused(request, patient, access)
    wallet = selectors.wallet_get(org=request.org, patient=patient)
    lines = selectors.ledger_lines(org=request.org, patient=patient)
    access_record(
        access,
        org=request.org,
        actor=request.user,
        object_type="wallet",
        object_id=patient.pk,
        fields=["balances", "ledger"],
        request=request,
        action=AuditAction.VIEW,
    )
    page = {"patient": patient, "wallet": wallet, "lines": lines}
    return render_in_zone(request, "ledger/wallet.html", page, branch=patient.branch)


paths: list[URLPattern] = [
    path("patients/<str:patient_id>/wallet/", wallet_page, name="wallet"),
]
