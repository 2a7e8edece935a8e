"""The memberships API: a patient's memberships (benefits left), sell, freeze, renew, cancel; plans.

Reads need ``wallet.view``, selling and changing a membership ``wallet.move`` (money-moving calls
take an ``Idempotency-Key``), creating and editing plans ``ledger.manage``. Refusals name their
field (422) or the state in the way (409); nothing is posted."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.core.api import ERRORS
from clinicflow.ledger.api.idempotency import IdemKey, Once, idempotent_op
from clinicflow.ledger.api.schemas import PlanOut, plan_out
from clinicflow.ledger.selectors import memberships as selectors
from clinicflow.ledger.selectors.memberships import MembershipView
from clinicflow.ledger.selectors.wallet import plan_named, wallet_patient
from clinicflow.ledger.services import memberships as services
from clinicflow.ledger.services import plans as plan_services

router = Router(tags=["ledger"])


class SellIn(Schema):
    plan: str = Field(max_length=60, description="The plan's code or id")
    members: list[str] = Field(
        default_factory=list, description="Family members' patient ids (shareable plans)"
    )


class FreezeIn(Schema):
    days: int = Field(description="Days to freeze from now (within the plan's freezable days)")


class IncludedOut(Schema):
    service: str
    per_period: int
    used: int


class MembershipOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    plan: str
    kind: str
    state: str
    currency: str
    price: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    frozen_days: int
    freeze_days_left: int
    prepaid_left: str
    used_value: str
    refund_if_cancelled_now: str
    refund: str | None
    shared: bool
    members: list[str]
    category_discounts: dict[str, Any]
    included: list[IncludedOut]


class PlanIn(Schema):
    kind: str
    name: str = Field(max_length=200)
    currency: str = Field(max_length=3)
    price: Decimal
    credit: Decimal | None = None
    bonus_valid_days: int | None = None
    period: str = ""
    duration_days: int | None = None
    category_discounts: dict[str, Any] = Field(default_factory=dict)
    included: dict[str, int] = Field(default_factory=dict)
    priority_booking: bool = False
    shareable: bool = False
    freezable_days: int = 0
    available_until: dt.date | None = None
    is_active: bool = True


def membership_out(v: MembershipView) -> dict[str, Any]:
    m = v.membership
    return {
        "id": m.pk, "patient": m.patient_id, "plan": v.plan.code, "kind": v.plan.kind, "state": v.state,
        "currency": m.currency, "price": str(m.price), "starts_at": m.starts_at, "ends_at": m.ends_at,
        "frozen_days": m.frozen_days, "freeze_days_left": v.freeze_days_left,
        "prepaid_left": str(v.prepaid_left), "used_value": str(v.used_value),
        "refund_if_cancelled_now": str(v.refund_now), "refund": None if m.refund is None else str(m.refund),
        "shared": v.shared, "members": v.members, "category_discounts": v.plan.category_discounts,
        "included": [{"service": c, "per_period": n, "used": u} for c, (n, u) in v.included.items()],
    }  # fmt: skip


def _view(request: ApiRequest, membership_id: object) -> dict[str, Any]:
    m = selectors.membership_get(org=request.org, membership_id=membership_id)
    views = selectors.patient_memberships(org=request.org, patient=m.patient, include_shared=False)
    return membership_out(next(v for v in views if v.membership.pk == m.pk))


def _mine(request: ApiRequest, membership_id: str) -> Any:
    m = selectors.membership_get(org=request.org, membership_id=membership_id)
    wallet_patient(org=request.org, user=request.auth, patient_id=m.patient_id, write=True, request=request)
    return m


@router.get("/patients/{patient_id}/memberships", response={200: list[MembershipOut], **ERRORS})
@api_perm("wallet.view", audit_object="wallet")
def patient_memberships(request: ApiRequest, patient_id: str) -> list[dict[str, Any]]:
    """The patient's memberships (own and shared with them): state, prepaid value left, benefits
    used and left in the current period, what a cancellation now would refund."""
    patient = wallet_patient(org=request.org, user=request.auth, patient_id=patient_id, request=request)
    return [membership_out(v) for v in selectors.patient_memberships(org=request.org, patient=patient)]


@router.post("/patients/{patient_id}/memberships", response={201: MembershipOut, **ERRORS})
@api_perm("wallet.move", audit_object="wallet")
@idempotent_op()
def sell(request: ApiRequest, patient_id: str, data: SellIn, idempotency_key: IdemKey = None) -> Once:
    """Sell a plan (paid now by cash, card or transfer): fee-based and package fees go to the
    prepaid account, a stored-value plan tops the balance up with its bonus. 422 naming `plan`
    (unknown, withdrawn) or `members` (not shareable, unknown patient)."""
    org, user = request.org, request.auth
    patient = wallet_patient(org=org, user=user, patient_id=patient_id, write=True, request=request)

    def run() -> dict[str, Any]:
        plan = plan_named(org=org, code=data.plan)
        assert plan is not None
        members = selectors.patients_named(org=org, ids=data.members)
        m = services.membership_sell(
            org=org, actor=user, patient=patient, plan=plan, members=members, request=request
        )
        return _view(request, m.pk)

    return Once(data.dict(), run)


@router.post("/memberships/{membership_id}/freeze", response={200: MembershipOut, **ERRORS})
@api_perm("wallet.move", audit_object="wallet")
def freeze(request: ApiRequest, membership_id: str, data: FreezeIn) -> dict[str, Any]:
    """Freeze for `days` from now: the end moves by as many days; no benefit while frozen."""
    m = _mine(request, membership_id)
    services.membership_freeze(org=request.org, actor=request.auth, membership=m, days=data.days)
    return _view(request, m.pk)


@router.post("/memberships/{membership_id}/renew", response={201: MembershipOut, **ERRORS})
@api_perm("wallet.move", audit_object="wallet")
@idempotent_op()
def renew(request: ApiRequest, membership_id: str, idempotency_key: IdemKey = None) -> Once:
    """The same plan again from the old end (paid now)."""
    m = _mine(request, membership_id)

    def run() -> dict[str, Any]:
        again = services.membership_renew(org=request.org, actor=request.auth, membership=m, request=request)
        return _view(request, again.pk)

    return Once({"renew": str(m.pk)}, run)


@router.post("/memberships/{membership_id}/cancel", response={201: MembershipOut, **ERRORS})
@api_perm("wallet.move", audit_object="wallet")
@idempotent_op()
def cancel(request: ApiRequest, membership_id: str, idempotency_key: IdemKey = None) -> Once:
    """Cancel now: refund the pro-rata price for the time left minus the benefits used at list
    price (stored value: the money part left); the rest is earned."""
    m = _mine(request, membership_id)

    def run() -> dict[str, Any]:
        services.membership_cancel(org=request.org, actor=request.auth, membership=m, request=request)
        return _view(request, m.pk)

    return Once({"cancel": str(m.pk)}, run)


@router.put("/membership-plans/{plan_code}", response={200: PlanOut, 201: PlanOut, **ERRORS})
@api_perm("ledger.manage", audit_object="membership_plan")
def plan_put(request: ApiRequest, plan_code: str, data: PlanIn) -> Status[dict[str, Any]]:
    """Create the plan with this code (201) or change its terms (200): fee-based, stored value or
    prepaid package; memberships already sold keep their price and term. Refusals name the field."""
    found = selectors.plan_by_code(org=request.org, code=plan_code)
    values = {**data.dict(), "code": plan_code}
    plan = plan_services.plan_save(org=request.org, actor=request.auth, data=values, plan=found)
    return Status(200 if found else 201, plan_out(plan))
