"""Writing the journal: one balanced transaction of postings, and its reversal.

``post`` is the only writer of postings. The caller holds every patient account of the transaction
locked (``lock``: ``SELECT ... FOR UPDATE`` in primary-key order, so two writers never deadlock) inside
``transaction.atomic``; ``post`` then checks the rules before it writes anything:

- every amount is a ``Decimal`` (a float raises), not zero, with no more decimal places than its unit
  has (the currency's minor unit; points are whole);
- the postings sum to zero per unit (PostgreSQL checks it again at commit, by a deferred trigger);
- no patient account goes below zero, and no lot gives more than it has left.

Patient accounts carry a cached ``balance`` (and each posting the ``balance_after`` of its account),
updated in the same transaction. The organisation's accounts are not cached: every payment touches
them, and a locked, updated row there would serialise all payments of a clinic; their balance is the
sum of their postings (``clinicflow ledger verify`` checks both).

Rounding: one rule for the whole ledger, ``ROUND_HALF_EVEN`` (banker's rounding, as in
``clinicflow.core.money``), to the unit's places, wherever an amount is computed (bonus, points
earned, money for points, pro-rata parts); see ``round_unit``."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import connection
from django.db import transaction as db_transaction
from django.db.models import Q, Sum
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.errors import Conflict, DomainError
from clinicflow.core.models import Organization
from clinicflow.core.money import MINOR_UNITS
from clinicflow.ledger.models import (
    LOT_KINDS,
    PATIENT_KINDS,
    POINTS,
    Account,
    AccountKind,
    Posting,
    Transaction,
    TxKind,
)
from clinicflow.patients.models import Patient

ROUNDING = ROUND_HALF_EVEN


class LedgerError(DomainError):
    """A rule of the ledger broken by the code that calls it (never by user input)."""

    status = 500
    code = "ledger_error"


def places(unit: str) -> int:
    return 0 if unit == POINTS else MINOR_UNITS.get(unit, 2)


def round_unit(amount: Decimal, unit: str) -> Decimal:
    """``amount`` rounded to the unit's places with the ledger's one rule (ROUND_HALF_EVEN)."""
    if isinstance(amount, float):
        raise TypeError("ledger amounts must not be floats")
    return amount.quantize(Decimal(1).scaleb(-places(unit)), rounding=ROUNDING)


@dataclass(frozen=True)
class Leg:
    """One posting to be written: ``amount`` into ``account`` (negative: out of it). ``lot``: the lot
    a bonus or points posting takes from or gives back to; ``expires_at``: the expiry of the lot a
    positive bonus or points posting opens. ``lot_left``: what the lot had left, read by the caller
    while holding the account locked (``lots.take_from_lots``); ``post`` reads the lots without it."""

    account: Account
    amount: Decimal
    lot: uuid.UUID | None = None
    expires_at: dt.datetime | None = None
    lot_left: Decimal | None = None


def account_for(*, org: Organization, kind: str, unit: str, patient: Patient | None = None) -> Account:
    """The account (created on first use; a race to create it ends with the one row)."""
    if (kind in PATIENT_KINDS) != (patient is not None):
        raise LedgerError(
            f"{kind} accounts belong to {'a patient' if kind in PATIENT_KINDS else 'the clinic'}"
        )
    account, _ = Account.objects.get_or_create(organization=org, patient=patient, kind=kind, unit=unit)
    return account


def accounts_of(
    *, org: Organization, wanted: Iterable[tuple[str, str]], patient: Patient | None = None
) -> dict[tuple[str, str], Account]:
    """The accounts ``(kind, unit)`` a call posts to, read in one query (created on first use, as by
    ``account_for``): the patient's for the patient kinds, the clinic's for the others."""
    keys = set(wanted)
    if not keys:
        return {}
    if patient is None and any(kind in PATIENT_KINDS for kind, _ in keys):
        raise LedgerError("patient accounts belong to a patient")
    mine = Q(patient__isnull=True)
    if patient is not None:
        mine |= Q(patient=patient)
    rows = (
        Account.objects.for_org(org)
        .filter(mine)
        .filter(kind__in=sorted({k for k, _ in keys}), unit__in=sorted({u for _, u in keys}))
    )
    found: dict[tuple[str, str], Account] = {}
    for account in rows:
        key = (account.kind, account.unit)
        if key in keys and (account.patient_id is None) == (account.kind not in PATIENT_KINDS):
            found[key] = account
    for kind, unit in sorted(keys - found.keys()):
        owner = patient if kind in PATIENT_KINDS else None
        found[(kind, unit)] = account_for(org=org, kind=kind, unit=unit, patient=owner)
    return found


def lock(accounts: Iterable[Account]) -> dict[uuid.UUID, Account]:
    """The accounts re-read under ``SELECT ... FOR UPDATE`` in primary-key order (call inside atomic)."""
    ids = sorted({a.pk for a in accounts})
    return {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


_MINE_LOCKED = """
WITH mine AS (
  SELECT a.* FROM {table} a
   WHERE a.organization_id = %s AND a.patient_id = %s AND (a.kind, a.unit) IN ({mine})
     AND (SELECT COUNT(*) FROM {table} b
           WHERE b.organization_id = %s AND b.patient_id = %s AND (b.kind, b.unit) IN ({mine})) = %s
   ORDER BY a.id
     FOR UPDATE)
SELECT * FROM mine"""
_AND_CLINIC = """
 UNION ALL
SELECT c.* FROM {table} c
 WHERE c.organization_id = %s AND c.patient_id IS NULL AND (c.kind, c.unit) IN ({clinic})"""


def _pairs(keys: list[tuple[str, str]]) -> str:
    return ", ".join(["(%s, %s)"] * len(keys))


def accounts_locked(
    *, org: Organization, patient: Patient, wanted: Iterable[tuple[str, str]]
) -> tuple[dict[tuple[str, str], Account], dict[uuid.UUID, Account]]:
    """``accounts_of`` and then ``lock`` of the patient's accounts among them, in one statement when
    they all exist (call inside atomic): ``(accounts by (kind, unit), the patient's locked by pk)``.

    On PostgreSQL the patient's rows are read ``FOR UPDATE`` in primary-key order (as ``lock``: two
    writers never deadlock, and a writer that waited reads the balance the other committed), in a CTE
    that locks them only when every one exists; the clinic's rows are read beside them without a lock
    (they are never updated, and a lock there would serialise every payment of the clinic). When a
    patient account is missing (first use) nothing is locked: ``accounts_of`` creates it, then
    ``lock`` locks (so no lock is held while waiting on a concurrent writer creating the same row).
    Elsewhere (SQLite: ``select_for_update`` does nothing) this is ``accounts_of`` then ``lock``."""
    keys = set(wanted)
    mine = sorted(k for k in keys if k[0] in PATIENT_KINDS)
    if connection.vendor == "postgresql" and mine:
        clinic = sorted(keys - set(mine))
        table = Account._meta.db_table
        flat = [str(v) for key in mine for v in key]
        sql = _MINE_LOCKED.format(table=table, mine=_pairs(mine))
        params: list[object] = [org.pk, patient.pk, *flat, org.pk, patient.pk, *flat, len(mine)]
        if clinic:
            sql += _AND_CLINIC.format(table=table, clinic=_pairs(clinic))
            params += [org.pk, *(str(v) for key in clinic for v in key)]
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        found = {(a.kind, a.unit): a for a in Account.objects.raw(sql, params)}
        if all(k in found for k in mine):
            for kind, unit in sorted(keys - found.keys()):  # a clinic account on first use
                found[(kind, unit)] = account_for(org=org, kind=kind, unit=unit)
            return found, {found[k].pk: found[k] for k in mine}
    found = accounts_of(org=org, patient=patient, wanted=keys)
    locked = lock(found[k] for k in mine)
    for key in mine:
        found[key] = locked[found[key].pk]
    return found, locked


def lot_remaining(*, org: Organization, lots: Iterable[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    """What is left in each lot: the opening posting plus every posting that names the lot."""
    ids = list(set(lots))
    if not ids:
        return {}
    rows = Posting.objects.for_org(org).filter(Q(pk__in=ids) | Q(lot__in=ids))
    left: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for pk, lot, amount in rows.values_list("pk", "lot", "amount"):
        left[lot or pk] += amount
    return dict(left)


def post(
    *,
    org: Organization,
    kind: str,
    legs: Sequence[Leg],
    locked: dict[uuid.UUID, Account],
    patient: Patient | None = None,
    actor: User | None = None,
    memo: str = "",
    reference: str = "",
    reverses: Transaction | None = None,
    at: dt.datetime | None = None,
) -> Transaction:
    """Write one balanced transaction (see the module's rules); returns it with ``lines`` set."""
    if not db_transaction.get_connection().in_atomic_block:
        raise LedgerError("post() runs inside transaction.atomic with the accounts locked")
    if not legs:
        raise LedgerError("a transaction has postings")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    moves: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    taken: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    known: dict[uuid.UUID, Decimal | None] = {}  # what each lot had left, as the caller read it locked
    for leg in legs:
        _check_leg(org, leg)
        totals[leg.account.unit] += leg.amount
        moves[leg.account.pk] += leg.amount
        if leg.lot is not None and leg.amount < 0:
            taken[leg.lot] += -leg.amount
            seen = known.get(leg.lot, leg.lot_left)
            known[leg.lot] = None if seen is None or leg.lot_left is None else min(seen, leg.lot_left)
    unbalanced = sorted(unit for unit, total in totals.items() if total != 0)
    if unbalanced:
        raise LedgerError(f"the postings do not sum to zero in {', '.join(unbalanced)}")
    cached = {a.pk: a for a in (leg.account for leg in legs) if a.kind in PATIENT_KINDS}
    for pk, account in cached.items():
        if pk not in locked:
            raise LedgerError("a patient account is posted to without being locked")
        current = locked[pk].balance
        if current + moves[pk] < 0:
            raise Conflict("not enough on the balance", fields={"amount": ["exceeds the balance"]})
        account.balance = current
        account.last_seq = locked[pk].last_seq
    left = lot_remaining(org=org, lots=[lot for lot in taken if known[lot] is None])
    left.update({lot: amount for lot, amount in known.items() if amount is not None})
    for lot, amount in taken.items():
        if left.get(lot, Decimal(0)) < amount:
            raise Conflict("the value was already used", fields={"amount": ["exceeds what is left"]})
    now = at or timezone.now()
    txn = Transaction.objects.create(
        organization=org,
        kind=kind,
        patient=patient,
        reverses=reverses,
        memo=memo[:300],
        reference=reference[:100],
        created_by=actor,
        created_at=now,
    )
    rows = []
    for leg in legs:
        after, seq = None, None
        if leg.account.pk in cached:
            account = cached[leg.account.pk]
            account.balance += leg.amount
            account.last_seq += 1
            after, seq = account.balance, account.last_seq
        rows.append(
            Posting(
                organization=org,
                transaction=txn,
                account=leg.account,
                unit=leg.account.unit,
                amount=leg.amount,
                balance_after=after,
                seq=seq,
                lot_id=leg.lot,
                expires_at=leg.expires_at,
                created_at=now,
            )
        )
    Posting.objects.bulk_create(rows)
    _write_balances(list(cached.values()))
    for pk, account in cached.items():
        # the locked copies follow (still locked): a later post() in the same call reads them
        locked[pk].balance, locked[pk].last_seq = account.balance, account.last_seq
    txn.lines = rows  # type: ignore[attr-defined]  # the postings just written, for the caller
    return txn


def _write_balances(accounts: list[Account]) -> None:
    """The new cached balances of the posted patient accounts, in one UPDATE."""
    if len(accounts) == 1:
        one = accounts[0]
        Account.objects.filter(pk=one.pk).update(balance=one.balance, last_seq=one.last_seq)
    elif accounts:
        Account.objects.bulk_update(accounts, ["balance", "last_seq"])


def _check_leg(org: Organization, leg: Leg) -> None:
    amount, account = leg.amount, leg.account
    if not isinstance(amount, Decimal):
        raise TypeError("ledger amounts are Decimal (never float)")
    if account.organization_id != org.pk:
        raise LedgerError("an account of another organisation")
    if amount == 0 or not amount.is_finite():
        raise LedgerError("a posting moves a non-zero, finite amount")
    if round_unit(amount, account.unit) != amount:
        raise LedgerError(f"{amount} has more decimal places than {account.unit} allows")
    if account.kind in LOT_KINDS and amount < 0 and leg.lot is None:
        raise LedgerError("value leaves a bonus or points account from a named lot")


def reversal_legs(*, org: Organization, original: Transaction) -> list[Leg]:
    """The postings that undo ``original``: each amount negated, on the same account and lot (a lot
    the original opened is named as the lot its reversal takes from)."""
    legs = []
    for p in Posting.objects.for_org(org).filter(transaction=original).select_related("account"):
        opened = p.account.kind in LOT_KINDS and p.lot_id is None and p.amount > 0
        legs.append(Leg(account=p.account, amount=-p.amount, lot=p.pk if opened else p.lot_id))
    return legs


def transaction_reverse(
    *, org: Organization, actor: User | None, original: Transaction, memo: str = ""
) -> Transaction:
    """Undo a transaction by a new one (kind ``reversal``) linked to it. Refused (409) for a reversal,
    for a transaction already reversed, and when the value it gave was already used."""
    if original.organization_id != org.pk:
        raise LedgerError("a transaction of another organisation")
    if original.kind == TxKind.REVERSAL:
        raise Conflict(
            "a reversal is not reversed; post a new transaction", fields={"transaction": ["reversal"]}
        )
    legs = reversal_legs(org=org, original=original)
    with db_transaction.atomic():
        locked = lock(leg.account for leg in legs if leg.account.kind in PATIENT_KINDS)
        if Transaction.objects.for_org(org).filter(reverses=original).exists():
            raise Conflict(
                "the transaction was already reversed", fields={"transaction": ["already reversed"]}
            )
        return post(
            org=org,
            kind=TxKind.REVERSAL,
            legs=legs,
            locked=locked,
            patient=original.patient,
            actor=actor,
            memo=memo or f"reversal of {original.kind}",
            reverses=original,
        )


def balance_of(account: Account) -> Decimal:
    """An account's balance replayed from its postings (never the cache)."""
    total = Posting.objects.filter(organization_id=account.organization_id, account=account).aggregate(
        s=Sum("amount")
    )["s"]
    return total if total is not None else Decimal(0)


__all__ = [
    "ROUNDING",
    "AccountKind",
    "LedgerError",
    "Leg",
    "account_for",
    "accounts_locked",
    "accounts_of",
    "balance_of",
    "lock",
    "lot_remaining",
    "places",
    "post",
    "reversal_legs",
    "round_unit",
    "transaction_reverse",
]
