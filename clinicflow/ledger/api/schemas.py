"""In and out schemas of the ledger API, and the functions that fill the out ones."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.utils import timezone
from ninja import Schema
from pydantic import Field

from clinicflow.ledger.models import MembershipPlan, PlanPeriod, Transaction
from clinicflow.ledger.selectors.memberships import MembershipView
from clinicflow.ledger.selectors.wallet import Line, Wallet
from clinicflow.ledger.services.benefits import period_start

MONTH = dt.timedelta(days=30)  # the benefit period of a monthly plan (services.benefits)

AMOUNT_DOC = 'A decimal amount as a string ("500.00") or an integer, with at most the currency\'s decimals.'


class TopUpIn(Schema):
    amount: Decimal = Field(description=AMOUNT_DOC)
    currency: str = Field(max_length=3, description="ISO 4217 code; one the clinic keeps balances in")
    plan: str | None = Field(default=None, max_length=60, description="A stored-value plan's code or id")


class SpendIn(Schema):
    amount: Decimal = Field(description=AMOUNT_DOC)
    currency: str = Field(max_length=3)
    invoice: str | None = Field(default=None, max_length=100, description="The invoice paid (a reference)")
    category: str | None = Field(default=None, max_length=20, description="Service category, for points")


class RedeemIn(Schema):
    points: int = Field(description="Whole points to turn into money off (bonus balance)")
    currency: str = Field(max_length=3)


class GiveIn(Schema):
    to_patient: str = Field(max_length=64, description="The id of a patient of the same clinic")
    points: int


class ExpiringOut(Schema):
    on: dt.date = Field(description="The day (in the patient's branch's zone) the amount expires")
    amount: str


class BalanceOut(Schema):
    kind: str
    unit: str
    balance: str
    spendable: str = Field(description="What can be spent now: the balance less expired lots")
    expiring: list[ExpiringOut] = Field(
        description="Bonus and points: what expires on each of the next days with something expiring"
        " (at most 10 days, soonest first)"
    )
    expiring_later: str = Field(description="What expires after the days listed in `expiring`")


class IncludedLeftOut(Schema):
    service: str = Field(description="The included service's code")
    per_period: int
    used: int = Field(description="Used in the current period")
    remaining: int = Field(description="Left in the current period")


class WalletMembershipOut(Schema):
    id: uuid.UUID
    plan: str = Field(description="The plan's code")
    plan_name: str
    kind: str = Field(description="fee, stored_value or package")
    status: str = Field(description="active, frozen, cancelled, ended or not_started (now)")
    period: str = Field(description="month or year (fee-based plans); empty: the whole term")
    period_starts_at: dt.datetime = Field(description="The current benefit period")
    period_ends_at: dt.datetime
    starts_at: dt.datetime
    expires_at: dt.datetime = Field(description="The end of the term (moved by the days frozen)")
    currency: str
    prepaid_left: str
    shared: bool = Field(description="Held by another patient and shared with this one")
    included: list[IncludedLeftOut]


class WalletOut(Schema):
    patient: uuid.UUID
    balances: list[BalanceOut]
    points: int
    memberships: list[WalletMembershipOut]


class PostingOut(Schema):
    account: str
    unit: str
    amount: str
    balance_after: str | None


class TransactionOut(Schema):
    id: uuid.UUID
    kind: str
    patient: uuid.UUID | None
    created_at: dt.datetime
    reverses: uuid.UUID | None
    reference: str
    postings: list[PostingOut]


class LineOut(Schema):
    id: uuid.UUID
    at: dt.datetime
    transaction: uuid.UUID
    kind: str
    account: str
    unit: str
    amount: str
    balance_after: str | None
    expires_at: dt.datetime | None
    reverses: uuid.UUID | None


class PlanOut(Schema):
    id: uuid.UUID
    code: str
    kind: str
    name: str
    currency: str
    price: str
    credit: str | None
    bonus_valid_days: int | None
    period: str
    duration_days: int | None
    category_discounts: dict[str, Any]
    included: dict[str, Any]
    priority_booking: bool
    shareable: bool
    available_until: dt.date | None


def wallet_membership_out(view: MembershipView, at: dt.datetime) -> dict[str, Any]:
    """A membership as the wallet shows it: the benefit period holding ``at`` (within the term) and
    the included procedures left in it."""
    m, plan = view.membership, view.plan
    moment = min(max(at, m.starts_at), m.ends_at)
    since = period_start(m, moment)
    until = min(since + MONTH, m.ends_at) if plan.period == PlanPeriod.MONTH else m.ends_at
    return {
        "id": m.pk,
        "plan": plan.code,
        "plan_name": plan.name,
        "kind": plan.kind,
        "status": view.state,
        "period": plan.period,
        "period_starts_at": since,
        "period_ends_at": until,
        "starts_at": m.starts_at,
        "expires_at": m.ends_at,
        "currency": m.currency,
        "prepaid_left": str(view.prepaid_left),
        "shared": view.shared,
        "included": [
            {"service": code, "per_period": n, "used": used, "remaining": max(n - used, 0)}
            for code, (n, used) in sorted(view.included.items())
        ],
    }


def wallet_out(
    wallet: Wallet, memberships: list[MembershipView] | None = None, at: dt.datetime | None = None
) -> dict[str, Any]:
    moment = at or timezone.now()
    return {
        "patient": wallet.patient.pk,
        "balances": [
            {
                "kind": b.kind,
                "unit": b.unit,
                "balance": str(b.balance),
                "spendable": str(b.spendable),
                "expiring": [{"on": on, "amount": str(left)} for on, left in b.expiring],
                "expiring_later": str(b.expiring_later),
            }
            for b in wallet.balances
        ],
        "points": int(wallet.total("points", "PTS")),
        "memberships": [wallet_membership_out(v, moment) for v in memberships or []],
    }


def transaction_out(txn: Transaction) -> dict[str, Any]:
    lines = getattr(txn, "lines", [])
    return {
        "id": txn.pk,
        "kind": txn.kind,
        "patient": txn.patient_id,
        "created_at": txn.created_at,
        "reverses": txn.reverses_id,
        "reference": txn.reference,
        "postings": [
            {
                "account": p.account.kind,
                "unit": p.unit,
                "amount": str(p.amount),
                "balance_after": None if p.balance_after is None else str(p.balance_after),
            }
            for p in lines
        ],
    }


def line_out(line: Line) -> dict[str, Any]:
    return {
        "id": line.id,
        "at": line.at,
        "transaction": line.transaction,
        "kind": line.kind,
        "account": line.account,
        "unit": line.unit,
        "amount": str(line.amount),
        "balance_after": None if line.balance_after is None else str(line.balance_after),
        "expires_at": line.expires_at,
        "reverses": line.reverses,
    }


def plan_out(plan: MembershipPlan) -> dict[str, Any]:
    return {
        "id": plan.pk,
        "code": plan.code,
        "kind": plan.kind,
        "name": plan.name,
        "currency": plan.currency,
        "price": str(plan.price),
        "credit": None if plan.credit is None else str(plan.credit),
        "bonus_valid_days": plan.bonus_valid_days,
        "period": plan.period,
        "duration_days": plan.duration_days,
        "category_discounts": plan.category_discounts,
        "included": plan.included,
        "priority_booking": plan.priority_booking,
        "shareable": plan.shareable,
        "available_until": plan.available_until,
    }
