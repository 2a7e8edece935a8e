"""After the load: the patient accounts' cached balances from their postings, and the membership fees
earned by the simulated "now" — in bulk.

``memberships_earn_due`` (the ledger's periodic job) earns one membership at a time: about ten
statements each (lock, lot left, transaction, postings, balance), ~30 ms on a loaded machine — hours
for a chain's hundreds of thousands of memberships. Here the same postings are computed from three
reads (the open memberships, the prepaid postings, the prepaid accounts) with the service's own
arithmetic (``amount_to_earn``), in its order (start, then id: each patient's posting numbers follow
it), and bulk-written (PostgreSQL: binary COPY); the touched accounts' cached balances are set in one
statement. The rows are those the service writes (kind ``membership_earn``, the patient, the
membership's id as reference, the prepaid lot → the clinic's ``revenue``, ``balance_after`` and
``seq`` on the patient's leg, every row stamped ``at``), except their ids: UUIDv7 of ``at`` drawn
from the run's id stream instead of the wall clock (a run stays reproducible)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

import numpy as np
from django.db import connection

from clinicflow.core.models import Organization
from clinicflow.core.rawsql import db_uuid
from clinicflow.ledger.models import (
    Account,
    AccountKind,
    Membership,
    MembershipStatus,
    Posting,
    Transaction,
    TxKind,
)
from clinicflow.ledger.services.journal import account_for
from clinicflow.ledger.services.memberships import amount_to_earn
from clinicflow.simulator.engine.ids import uuid7_array
from clinicflow.simulator.writers.bulk import BulkWriter

# the patient accounts' cached balance and last posting number, replayed from their postings
# (``kinds``: restricted to the accounts of these kinds)
_BALANCES = """
UPDATE ledger_account SET balance = s.total, last_seq = s.n FROM (
  SELECT p.account_id, SUM(p.amount) AS total, COALESCE(MAX(p.seq), 0) AS n
    FROM ledger_posting p{join}
   WHERE p.organization_id = %s{kinds}
   GROUP BY p.account_id) s
 WHERE ledger_account.id = s.account_id AND ledger_account.patient_id IS NOT NULL"""


class _Open(NamedTuple):
    """An open membership as the earning reads it (``memberships.Term``)."""

    id: uuid.UUID
    patient: uuid.UUID
    currency: str
    price: Decimal
    starts_at: dt.datetime
    ends_at: dt.datetime
    frozen_days: int
    frozen_from: dt.datetime | None
    frozen_until: dt.datetime | None
    lot: uuid.UUID


def set_balances(org: Organization, *, prepaid_only: bool = False) -> None:
    """Every patient account's (or only the prepaid ones') ``balance`` and ``last_seq`` from its
    postings, in one statement."""
    join, kinds, params = "", "", [db_uuid(org.pk)]
    if prepaid_only:
        join = " JOIN ledger_account a ON a.id = p.account_id"
        kinds = " AND a.kind = %s"
        params.append(AccountKind.PREPAID.value)
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(_BALANCES.format(join=join, kinds=kinds), params)


def finish_ledger(org: Organization, now: dt.datetime, rng: np.random.Generator | None = None) -> int:
    """The patient accounts' cached balances from their postings, then the membership fees earned by
    ``now``. Returns the number of fees earned."""
    set_balances(org)
    return earn_memberships(org, now, rng or np.random.default_rng())


def _open_memberships(org: Organization, at: dt.datetime) -> list[_Open]:
    """``memberships_earn_due``'s memberships, in its order."""
    rows = (
        Membership.objects.for_org(org)
        .filter(status=MembershipStatus.ACTIVE, lot__isnull=False, starts_at__lt=at)
        .order_by("starts_at", "pk")
        .values_list(
            "id", "patient_id", "currency", "price", "starts_at", "ends_at", "frozen_days", "frozen_from",
            "frozen_until", "lot_id",
        )
    )  # fmt: skip
    return [_Open(*row) for row in rows]


@dataclass
class _Held:
    """A patient's prepaid account as the earning moves it."""

    id: uuid.UUID
    balance: Decimal
    seq: int


def _prepaid(org: Organization) -> tuple[dict[uuid.UUID, Decimal], dict[tuple[uuid.UUID, str], _Held]]:
    """What each prepaid lot has left (its opening posting plus the postings that name it), and each
    patient's prepaid account per unit."""
    left: dict[uuid.UUID, Decimal] = defaultdict(Decimal)
    postings = Posting.objects.for_org(org).filter(account__kind=AccountKind.PREPAID)
    for pk, lot, amount in postings.values_list("pk", "lot_id", "amount").iterator(chunk_size=20_000):
        left[lot or pk] += amount
    accounts = Account.objects.for_org(org).filter(kind=AccountKind.PREPAID, patient__isnull=False)
    rows = accounts.values_list("pk", "patient_id", "unit", "balance", "last_seq")
    return left, {(patient, unit): _Held(pk, balance, seq) for pk, patient, unit, balance, seq in rows}


@dataclass
class _Legs:
    """The postings to write, two per transaction (the patient's prepaid lot, the clinic's revenue)."""

    account: list[uuid.UUID] = field(default_factory=list)
    amount: list[Decimal] = field(default_factory=list)
    after: list[Decimal | None] = field(default_factory=list)
    seq: list[int | None] = field(default_factory=list)
    lot: list[uuid.UUID | None] = field(default_factory=list)
    unit: list[str] = field(default_factory=list)

    def add(self, account: uuid.UUID, amount: Decimal, after: Decimal | None, seq: int | None,
            lot: uuid.UUID | None, unit: str) -> None:  # fmt: skip
        self.account.append(account)
        self.amount.append(amount)
        self.after.append(after)
        self.seq.append(seq)
        self.lot.append(lot)
        self.unit.append(unit)


def earn_memberships(org: Organization, at: dt.datetime, rng: np.random.Generator) -> int:
    """Post every open membership's fee earned by ``at`` (as ``memberships_earn_due`` would, see the
    module); the number of transactions written."""
    members = _open_memberships(org, at)
    if not members:
        return 0
    left, held = _prepaid(org)
    revenue: dict[str, uuid.UUID] = {}
    patients: list[uuid.UUID] = []
    refs: list[str] = []
    legs = _Legs()
    for m in members:
        amount = amount_to_earn(m, left.get(m.lot, Decimal(0)), at)
        if amount <= 0:
            continue
        account = held.get((m.patient, m.currency))
        if account is None or account.balance < amount:
            raise ValueError(f"membership {m.id}: its prepaid account does not hold {amount}")
        if m.currency not in revenue:
            revenue[m.currency] = account_for(org=org, kind=AccountKind.REVENUE, unit=m.currency).pk
        left[m.lot] -= amount
        account.balance -= amount
        account.seq += 1
        patients.append(m.patient)
        refs.append(str(m.id))
        legs.add(account.id, -amount, account.balance, account.seq, m.lot, m.currency)
        legs.add(revenue[m.currency], amount, None, None, None, m.currency)
    if refs:
        _write(org, at, rng, patients, refs, legs)
        set_balances(org, prepaid_only=True)
    return len(refs)


def _ids(values: list[uuid.UUID | None]) -> np.ndarray:
    """(N, 16) bytes of the ids (None: zeros, paired with a ``__null`` mask)."""
    raw = b"".join(bytes(16) if v is None else v.bytes for v in values)
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(values), 16)


def _hundredths(values: list[Decimal | None]) -> np.ndarray:
    return np.array([0 if v is None else int(v * 100) for v in values], dtype=np.int64)


def _write(
    org: Organization, at: dt.datetime, rng: np.random.Generator, patients: list[uuid.UUID], refs: list[str],
    legs: _Legs,
) -> None:  # fmt: skip
    """The transactions and their postings, bulk-written (created at ``at``, to the second)."""
    n, stamp = len(refs), int(at.timestamp())
    ids = uuid7_array(rng, np.full(3 * n, stamp * 1000, dtype=np.int64))
    txn = ids[:n]
    BulkWriter(Transaction, now=stamp, org_id=org.pk).write({
        "id": txn, "kind": TxKind.MEMBERSHIP_EARN.value, "patient": _ids(list(patients)), "reference": refs,
        "memo": "", "created_at": np.full(n, stamp, dtype=np.int64), "created_by": None, "reverses": None,
    })  # fmt: skip
    BulkWriter(Posting, now=stamp, org_id=org.pk).write({
        "id": ids[n:], "transaction": np.repeat(txn, 2, axis=0), "account": _ids(list(legs.account)),
        "unit": legs.unit, "amount": _hundredths(list(legs.amount)),
        "balance_after": _hundredths(legs.after),
        "balance_after__null": np.array([a is None for a in legs.after]),
        "seq": np.array([s or 0 for s in legs.seq], dtype=np.int64),
        "seq__null": np.array([s is None for s in legs.seq]),
        "lot": _ids(legs.lot), "lot__null": np.array([x is None for x in legs.lot]),
        "expires_at": None, "created_at": np.full(2 * n, stamp, dtype=np.int64),
    })  # fmt: skip
