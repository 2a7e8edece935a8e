"""The wallet API: balances, ledger lines, top-up, spend, points (redeem, give), membership plans.

Reads need ``wallet.view``, money-moving calls ``wallet.move``; both need the patient's card open to
the caller (branch). Every money-moving call takes an ``Idempotency-Key`` header (Stripe's rules: the
same key and request replay the first answer, the same key with another request is a 409); a refusal
names its field and posts nothing."""

from typing import Any

from django.utils import timezone
from ninja import Router

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.core.api import ERRORS
from clinicflow.core.audit import audit_record
from clinicflow.core.models import AuditAction
from clinicflow.ledger.api.idempotency import IdemKey, Once, idempotent_op
from clinicflow.ledger.api.schemas import (
    GiveIn,
    LineOut,
    PlanOut,
    RedeemIn,
    SpendIn,
    TopUpIn,
    TransactionOut,
    WalletOut,
    line_out,
    plan_out,
    transaction_out,
    wallet_out,
)
from clinicflow.ledger.selectors import wallet as selectors
from clinicflow.ledger.selectors.memberships import patient_memberships
from clinicflow.ledger.services import points as points_services
from clinicflow.ledger.services import wallet as wallet_services

router = Router(tags=["ledger"])
MOVED = {201: TransactionOut, **ERRORS}


@router.get("/patients/{patient_id}/wallet", response={200: WalletOut, **ERRORS})
@api_perm("wallet.view", audit_object="wallet")
def wallet(request: ApiRequest, patient_id: str) -> dict[str, Any]:
    """Balances per kind and currency (money, bonus with what is spendable now and what expires
    when), points, and the memberships held or shared (plan, kind, status now, the current benefit
    period, the included procedures left in it, the end of the term)."""
    org, user = request.org, request.auth
    patient = selectors.wallet_patient(org=org, user=user, patient_id=patient_id, request=request)
    audit_record(
        org=org, actor=user, action=AuditAction.VIEW, object_type="wallet", object_id=patient.pk,
        fields=["balances"], request=request,
    )  # fmt: skip
    now = timezone.now()
    held = patient_memberships(org=org, patient=patient, at=now)
    return wallet_out(selectors.wallet_get(org=org, patient=patient), held, now)


@router.get("/patients/{patient_id}/ledger", response={200: list[LineOut], **ERRORS})
@api_perm("wallet.view", audit_object="wallet")
def ledger(request: ApiRequest, patient_id: str) -> list[dict[str, Any]]:
    """The patient's last 100 ledger lines (postings of their accounts), newest first."""
    org, user = request.org, request.auth
    patient = selectors.wallet_patient(org=org, user=user, patient_id=patient_id, request=request)
    audit_record(
        org=org, actor=user, action=AuditAction.LIST, object_type="wallet", object_id=patient.pk,
        fields=["ledger"], request=request,
    )  # fmt: skip
    return [line_out(line) for line in selectors.ledger_lines(org=org, patient=patient)]


@router.post("/patients/{patient_id}/wallet/top-up", response=MOVED)
@api_perm("wallet.move", audit_object="wallet")
@idempotent_op()
def top_up(
    request: ApiRequest,
    patient_id: str,
    data: TopUpIn,
    idempotency_key: IdemKey = None,
) -> Once:
    """Money paid in onto the balance; with a stored-value `plan`, its bonus too (pay 50,000, get
    55,000: the 5,000 bonus may expire). 422 naming `amount`, `currency` or `plan` when refused."""
    org, user = request.org, request.auth
    patient = selectors.wallet_patient(org=org, user=user, patient_id=patient_id, write=True, request=request)

    def run() -> dict[str, Any]:
        plan = selectors.plan_named(org=org, code=data.plan)
        txn = wallet_services.wallet_top_up(
            org=org, actor=user, patient=patient, amount=data.amount, currency=data.currency, plan=plan,
            request=request,
        )  # fmt: skip
        return transaction_out(txn)

    return Once(data.dict(), run)


@router.post("/patients/{patient_id}/wallet/spend", response=MOVED)
@api_perm("wallet.move", audit_object="wallet")
@idempotent_op()
def spend(
    request: ApiRequest,
    patient_id: str,
    data: SpendIn,
    idempotency_key: IdemKey = None,
) -> Once:
    """Pay from the balance: bonus first (the lot expiring first), then money; points are earned on
    the money part. More than the spendable balance is a 409 naming `amount`."""
    org, user = request.org, request.auth
    patient = selectors.wallet_patient(org=org, user=user, patient_id=patient_id, write=True, request=request)

    def run() -> dict[str, Any]:
        txn = wallet_services.wallet_spend(
            org=org, actor=user, patient=patient, amount=data.amount, currency=data.currency,
            category=data.category or "", reference=data.invoice or "", request=request,
        )  # fmt: skip
        return transaction_out(txn)

    return Once(data.dict(), run)


@router.post("/patients/{patient_id}/points/redeem", response=MOVED)
@api_perm("wallet.move", audit_object="wallet")
@idempotent_op()
def redeem(
    request: ApiRequest,
    patient_id: str,
    data: RedeemIn,
    idempotency_key: IdemKey = None,
) -> Once:
    """Turn points into money off: `points × point value` onto the bonus balance."""
    org, user = request.org, request.auth
    patient = selectors.wallet_patient(org=org, user=user, patient_id=patient_id, write=True, request=request)

    def run() -> dict[str, Any]:
        txn = points_services.points_redeem(
            org=org, actor=user, patient=patient, points=data.points, currency=data.currency, request=request
        )
        return transaction_out(txn)

    return Once(data.dict(), run)


@router.post("/patients/{patient_id}/points/give", response=MOVED)
@api_perm("wallet.move", audit_object="wallet")
@idempotent_op()
def give(
    request: ApiRequest,
    patient_id: str,
    data: GiveIn,
    idempotency_key: IdemKey = None,
) -> Once:
    """Give points to another patient of the same clinic (`to_patient`); each lot keeps its expiry.
    A patient of another clinic is a 422 naming `to_patient`."""
    org, user = request.org, request.auth
    patient = selectors.wallet_patient(org=org, user=user, patient_id=patient_id, write=True, request=request)

    def run() -> dict[str, Any]:
        to_patient = selectors.other_patient(org=org, patient_id=data.to_patient)
        txn = points_services.points_give(
            org=org, actor=user, patient=patient, to_patient=to_patient, points=data.points, request=request
        )
        return transaction_out(txn)

    return Once(data.dict(), run)


@router.get("/membership-plans", response={200: list[PlanOut], **ERRORS})
@api_perm("wallet.view", audit_object="membership_plan")
def membership_plans(request: ApiRequest) -> list[dict[str, Any]]:
    """The clinic's membership plans on sale (fee-based, stored value, prepaid packages)."""
    return [plan_out(p) for p in selectors.plan_list(org=request.org).order_by("name", "id")]
