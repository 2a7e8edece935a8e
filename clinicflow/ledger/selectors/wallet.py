"""Reads of the ledger: a patient's wallet, their ledger lines, plans, and the access check every
wallet page and API call goes through (role, branch, emergency grant; refusals audited)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet, Sum
from django.utils import timezone

from clinicflow.accounts.breakglass import access_denied_record, patient_access
from clinicflow.accounts.models import User
from clinicflow.core.errors import PermissionDenied, ValidationFailed
from clinicflow.core.models import Organization
from clinicflow.core.rawsql import db_datetime, db_uuid, fetch, placeholders, py_date, py_uuid
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
from clinicflow.ledger.services.journal import round_unit
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


# the wallet shows what expires on each of the next days that have something expiring, then one total
EXPIRING_DAYS = 10


@dataclass
class Balance:
    kind: str
    unit: str
    balance: Decimal
    spendable: Decimal
    # (day in the branch's zone, amount expiring that day): the first ``EXPIRING_DAYS`` such days
    expiring: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    # what expires after those days
    expiring_later: Decimal = Decimal(0)


@dataclass
class Wallet:
    patient: Patient
    balances: list[Balance]

    def total(self, kind: str, unit: str) -> Decimal:
        return sum((b.balance for b in self.balances if b.kind == kind and b.unit == unit), Decimal(0))


def wallet_get(
    *, org: Organization, patient: Patient, now: dt.datetime | None = None, zone: str | None = None
) -> Wallet:
    """The patient's balances per kind and unit (cached balance; for bonus and points what can be
    spent now, and what expires per day in ``zone``, by default the patient's branch's). The lots are
    read summed per expiry day in the database (not lot by lot), in the same statement as the
    accounts when the zone is known without a query (given, or the patient's branch already read)."""
    now = now or timezone.now()
    zone = zone or _zone_read(patient)
    if zone is not None:
        accounts, days = _accounts_with_days(org, patient, now, zone)
    else:
        accounts = [
            a
            for a in Account.objects.for_org(org).filter(patient=patient).order_by("unit", "kind")
            if a.kind in PATIENT_KINDS
        ]
        with_lots = [a for a in accounts if a.kind in LOT_KINDS and a.balance > 0]
        days = lot_days(org, with_lots, now, wallet_zone(patient)) if with_lots else {}
    out = []
    for account in accounts:
        item = Balance(
            kind=account.kind, unit=account.unit, balance=account.balance, spendable=account.balance
        )
        if account.kind in LOT_KINDS and account.balance:
            lots = days.get(account.pk, [])
            dated = sorted((day, amount) for day, amount in lots if day is not None)
            item.spendable = round_unit(sum((a for _, a in lots), Decimal(0)), account.unit)
            item.expiring = dated[:EXPIRING_DAYS]
            later = sum((a for _, a in dated[EXPIRING_DAYS:]), Decimal(0))
            item.expiring_later = round_unit(later, account.unit)
        out.append(item)
    return Wallet(patient=patient, balances=out)


def _zone_read(patient: Patient) -> str | None:
    """``wallet_zone`` when it costs no query (the patient's branch already read, or none), else None."""
    if patient.branch_id is None or Patient.branch.is_cached(patient):
        return wallet_zone(patient)
    return None


def wallet_zone(patient: Patient) -> str:
    """The zone the wallet's days are in: the patient's branch's (the zone its pages render in),
    without a branch the current one."""
    branch = patient.branch if patient.branch_id else None
    return branch.timezone if branch is not None else timezone.get_current_timezone_name()


_LOT_DAYS = """
SELECT o.account_id, {day} AS expiry_day, SUM(l.amount_left) AS amount_left
  FROM (SELECT COALESCE(p.lot_id, p.id) AS root, SUM(p.amount) AS amount_left
          FROM {table} p
         WHERE p.organization_id = %s AND p.account_id IN ({ids})
         GROUP BY COALESCE(p.lot_id, p.id)
        HAVING SUM(p.amount) > 0) l
  JOIN {table} o ON o.id = l.root
 WHERE o.organization_id = %s AND (o.expires_at IS NULL OR o.expires_at > %s)
 GROUP BY 1, 2
"""


def lot_days(
    org: Organization, accounts: list[Account], now: dt.datetime, zone: str
) -> dict[uuid.UUID, list[tuple[dt.date | None, Decimal]]]:
    """What the accounts' usable lots (not expired at ``now``) have left, per account and expiry day
    in ``zone`` (``None``: lots without expiry), in one statement: the postings grouped by lot
    (``COALESCE(lot, id)``, the groups with something left) joined to their opening postings."""
    day, day_params = connection.ops.datetime_cast_date_sql("o.expires_at", (), zone)
    sql = _LOT_DAYS.format(day=day, table=Posting._meta.db_table, ids=placeholders(len(accounts)))
    org_id = db_uuid(org.pk)
    params = [*day_params, org_id, *(db_uuid(a.pk) for a in accounts), org_id, db_datetime(now)]
    units = {a.pk: a.unit for a in accounts}
    out: dict[uuid.UUID, list[tuple[dt.date | None, Decimal]]] = {}
    for account_id, on, amount in fetch(sql, params):
        pk = py_uuid(account_id)
        assert pk is not None
        # (SQLite sums decimals as floats: back to the unit's places)
        left = round_unit(Decimal(str(amount)), units[pk])
        if left > 0:
            out.setdefault(pk, []).append((py_date(on), left))
    return out


# the patient's accounts with what their usable lots have left per expiry day (one row per account
# and day; an account without lots: one row with NULLs), the lots' accounts as a subquery
_LOT_ACCOUNTS = """
SELECT b.id FROM {table} b
 WHERE b.organization_id = %s AND b.patient_id = %s AND b.kind IN ({kinds}) AND b.balance > 0"""
_ACCOUNTS_DAYS = """
SELECT a.*, d.expiry_day AS lot_day, d.amount_left AS lot_left
  FROM {account} a
  LEFT JOIN ({days}) d ON d.account_id = a.id
 WHERE a.organization_id = %s AND a.patient_id = %s AND a.kind IN ({kinds})
 ORDER BY a.unit, a.kind
"""


def _accounts_with_days(
    org: Organization, patient: Patient, now: dt.datetime, zone: str
) -> tuple[list[Account], dict[uuid.UUID, list[tuple[dt.date | None, Decimal]]]]:
    """The patient's accounts (by unit, kind) and ``lot_days`` of those with lots, in one statement."""
    table = Account._meta.db_table
    lots = sorted(str(k) for k in LOT_KINDS)
    ids = _LOT_ACCOUNTS.format(table=table, kinds=placeholders(len(lots)))
    day, day_params = connection.ops.datetime_cast_date_sql("o.expires_at", (), zone)
    days_sql = _LOT_DAYS.format(day=day, table=Posting._meta.db_table, ids=ids)
    kinds = sorted(str(k) for k in PATIENT_KINDS)
    sql = _ACCOUNTS_DAYS.format(account=table, days=days_sql, kinds=placeholders(len(kinds)))
    org_id, patient_id = db_uuid(org.pk), db_uuid(patient.pk)
    params = [*day_params, org_id, org_id, patient_id, *lots, org_id, db_datetime(now)]
    params += [org_id, patient_id, *kinds]
    accounts: dict[uuid.UUID, Account] = {}
    out: dict[uuid.UUID, list[tuple[dt.date | None, Decimal]]] = {}
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    for row in Account.objects.raw(sql, params):
        account = accounts.setdefault(row.pk, row)
        amount = getattr(row, "lot_left", None)
        if amount is None:
            continue
        # (SQLite sums decimals as floats: back to the unit's places)
        left = round_unit(Decimal(str(amount)), account.unit)
        if left > 0:
            out.setdefault(account.pk, []).append((py_date(getattr(row, "lot_day", None)), left))
    return list(accounts.values()), out


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


# the newest ``limit`` postings of each of the patient's accounts (index (organization, account,
# created_at, id), read backwards), then the newest ``limit`` of those with their transaction
_LINES_PG = """
SELECT p.id, p.created_at, p.transaction_id, t.kind, a.kind, p.unit, p.amount, p.balance_after,
       p.expires_at, t.reverses_id
  FROM {account} a
 CROSS JOIN LATERAL (
        SELECT q.id, q.created_at, q.transaction_id, q.unit, q.amount, q.balance_after, q.expires_at
          FROM {posting} q
         WHERE q.organization_id = a.organization_id AND q.account_id = a.id
         ORDER BY q.created_at DESC, q.id DESC
         LIMIT %s) p
  JOIN {transaction} t ON t.id = p.transaction_id AND t.organization_id = a.organization_id
 WHERE a.organization_id = %s AND a.patient_id = %s
 ORDER BY p.created_at DESC, p.id DESC
 LIMIT %s
"""


def ledger_lines(*, org: Organization, patient: Patient, limit: int = LEDGER_LINES) -> list[Line]:
    """The patient's last ``limit`` postings, newest first, with their account's kind and their
    transaction, in one statement (on PostgreSQL a ``LATERAL`` read of each account's newest
    postings, so it does not grow with the history)."""
    if connection.vendor == "postgresql":
        sql = _LINES_PG.format(
            account=Account._meta.db_table,
            posting=Posting._meta.db_table,
            transaction=Transaction._meta.db_table,
        )
        return [Line(*row) for row in fetch(sql, [limit, org.pk, patient.pk, limit])]
    rows = (
        Posting.objects.for_org(org)
        .filter(account__patient=patient, account__organization=org)
        .select_related("transaction", "account")
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        Line(
            id=p.pk,
            at=p.created_at,
            transaction=p.transaction_id,
            kind=p.transaction.kind,
            account=p.account.kind,
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
    "lot_days",
    "plan_list",
    "wallet_get",
    "wallet_patient",
    "wallet_zone",
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
