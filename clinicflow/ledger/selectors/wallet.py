"""Reads of the ledger: a patient's wallet, their ledger lines, plans, and the access check every
wallet page and API call goes through (role, branch, emergency grant; refusals audited)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils import timezone

from clinicflow.accounts.breakglass import access_denied_record, patient_access
from clinicflow.accounts.models import User
from clinicflow.core.errors import PermissionDenied, ValidationFailed
from clinicflow.core.models import Organization
from clinicflow.ledger.models import (
    LOT_KINDS,
    PATIENT_KINDS,
    Account,
    AccountKind,
    MembershipPlan,
    Posting,
    Transaction,
    TxKind,
)
from clinicflow.ledger.models.accounts import AMOUNT_PLACES
from clinicflow.ledger.services.lots import open_lots_dated
from clinicflow.patients.models import Patient
from clinicflow.patients.selectors import patient_get

LEDGER_LINES = 100


def wallet_patient(
    *, org: Organization, user: User, patient_id: object, write: bool = False, request: object = None
) -> Patient:
    """The patient whose wallet the caller asks for: 404 outside ``org``; 403 (audited) when the
    caller's branch does not open the card (or, to move value, does not allow changes)."""
    patient = patient_get(org=org, patient_id=patient_id, with_phones=False)
    access = patient_access(org=org, user=user, patient_id=patient.pk, branch_id=patient.branch_id)
    if not (access.writes if write else access.opens) or access.break_glass:
        access_denied_record(
            org=org,
            actor=user,
            object_type="wallet",
            object_id=patient.pk,
            request=request,  # type: ignore[arg-type]
        )
        raise PermissionDenied("your role or branch does not give access to this patient's wallet")
    return patient


def other_patient(*, org: Organization, patient_id: object, field_name: str = "to_patient") -> Patient:
    """A second patient named in a request body: one of ``org`` or a 422 naming the field."""
    try:
        return patient_get(org=org, patient_id=patient_id, with_phones=False)
    except Exception as exc:
        raise ValidationFailed.field(field_name, "no such patient in this clinic") from exc


@dataclass
class Balance:
    kind: str
    unit: str
    balance: Decimal
    spendable: Decimal
    expiring: list[tuple[dt.datetime, Decimal]] = field(default_factory=list)


@dataclass
class Wallet:
    patient: Patient
    balances: list[Balance]

    def total(self, kind: str, unit: str) -> Decimal:
        return sum((b.balance for b in self.balances if b.kind == kind and b.unit == unit), Decimal(0))


def wallet_get(*, org: Organization, patient: Patient, now: dt.datetime | None = None) -> Wallet:
    """The patient's balances per kind and unit (cached balance; for bonus and points what can be
    spent now and the lots that still expire)."""
    now = now or timezone.now()
    accounts = Account.objects.for_org(org).filter(patient=patient).order_by("unit", "kind")
    out = []
    for account in accounts:
        if account.kind not in PATIENT_KINDS:
            continue
        item = Balance(
            kind=account.kind, unit=account.unit, balance=account.balance, spendable=account.balance
        )
        if account.kind in LOT_KINDS and account.balance:
            lots = open_lots_dated(org=org, account=account, now=now)
            item.spendable = sum((left for _, left, _ in lots), Decimal(0))
            item.expiring = [(at, left) for _, left, at in lots if at is not None]
        out.append(item)
    return Wallet(patient=patient, balances=out)


@dataclass(frozen=True)
class Line:
    id: uuid.UUID
    at: dt.datetime
    transaction: uuid.UUID
    kind: str
    account: str
    unit: str
    amount: Decimal
    balance_after: Decimal | None
    expires_at: dt.datetime | None
    reverses: uuid.UUID | None

    @property
    def kind_label(self) -> str:
        return str(TxKind(self.kind).label)

    @property
    def account_label(self) -> str:
        return str(AccountKind(self.account).label)


def ledger_lines(*, org: Organization, patient: Patient, limit: int = LEDGER_LINES) -> list[Line]:
    """The patient's last ``limit`` postings, newest first, with their transaction."""
    accounts = list(Account.objects.for_org(org).filter(patient=patient).values_list("pk", "kind"))
    kinds = dict(accounts)
    rows = (
        Posting.objects.for_org(org)
        .filter(account__in=list(kinds))
        .select_related("transaction")
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        Line(
            id=p.pk,
            at=p.created_at,
            transaction=p.transaction_id,
            kind=p.transaction.kind,
            account=kinds[p.account_id],
            unit=p.unit,
            amount=p.amount,
            balance_after=p.balance_after,
            expires_at=p.expires_at,
            reverses=p.transaction.reverses_id,
        )
        for p in rows
    ]


def transaction_get(*, org: Organization, patient: Patient, transaction_id: object) -> Transaction | None:
    from clinicflow.core.selectors import parse_uuid

    pk = parse_uuid(transaction_id)
    return Transaction.objects.for_org(org).filter(pk=pk, patient=patient).first() if pk else None


def plan_list(*, org: Organization, active_only: bool = True) -> QuerySet[MembershipPlan]:
    qs = MembershipPlan.objects.for_org(org)
    return qs.filter(is_active=True) if active_only else qs


def plan_named(*, org: Organization, code: object, field_name: str = "plan") -> MembershipPlan | None:
    """The plan a request names by code or id (None when it names none); unknown: 422 on the field."""
    if code in (None, ""):
        return None
    from clinicflow.core.selectors import parse_uuid

    pk = parse_uuid(code)
    qs = MembershipPlan.objects.for_org(org)
    plan = qs.filter(pk=pk).first() if pk else qs.filter(code=str(code)[:60]).first()
    if plan is None:
        raise ValidationFailed.field(field_name, "no such plan")
    return plan


__all__ = [
    "AccountKind",
    "Balance",
    "Line",
    "Wallet",
    "ledger_lines",
    "plan_list",
    "wallet_get",
    "wallet_patient",
]


def liability(*, org: Organization, unit: str) -> Decimal:
    """What the clinic owes its patients in ``unit`` now: the sum of the patients' balances (money and
    bonus in a currency; points in ``PTS``), replayed from the postings."""
    kinds = [AccountKind.POINTS] if unit == "PTS" else [AccountKind.MONEY, AccountKind.BONUS]
    total = (
        Posting.objects.for_org(org)
        .filter(unit=unit, account__kind__in=kinds)
        .aggregate(s=Sum("amount"))["s"]
    )
    # SQLite sums decimals as floats (0.0100000000020373): back to the ledger's exact places
    return Decimal(0) if total is None else Decimal(total).quantize(Decimal(1).scaleb(-AMOUNT_PLACES))
