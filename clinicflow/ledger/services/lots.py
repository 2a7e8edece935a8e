"""Lots of bonus and points: what each credit has left, and when it expires.

A positive posting to a ``bonus`` or ``points`` account opens a lot (with its ``expires_at``, or
none); every later posting that takes value from it, gives value back to it, or expires it names it
(``lot``). What a lot has left is its opening amount plus those postings. Value is taken from the lot
that expires first (lots without expiry last, then oldest first); a lot past its expiry gives nothing,
and the periodic job ``expire_due`` moves what it has left to the clinic's ``expired`` account."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.db import transaction as db_transaction
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinicflow.core.models import Organization
from clinicflow.ledger.models import LOT_KINDS, Account, AccountKind, Posting, Transaction, TxKind
from clinicflow.ledger.services.journal import Leg, account_for, lock, lot_remaining, post, round_unit

_ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=18, decimal_places=2))


def _used() -> Coalesce:
    taken = (
        Posting.objects.filter(organization_id=OuterRef("organization_id"), lot=OuterRef("pk"))
        .values("lot")
        .annotate(s=Sum("amount"))
        .values("s")
    )
    return Coalesce(Subquery(taken), _ZERO)


# the newest lots read first: when what they have left adds up to the balance, no older lot has
# anything left (no lot ever has less than nothing), so the account's history is not read
NEWEST_FIRST = 64


def open_lots(
    *, org: Organization, account: Account, now: dt.datetime | None = None
) -> list[tuple[uuid.UUID, Decimal]]:
    """``[(lot, amount left), ...]`` of the account's lots that can still be used, in the order
    value is taken from them."""
    return [(pk, left) for pk, left, _ in open_lots_dated(org=org, account=account, now=now)]


def open_lots_dated(
    *, org: Organization, account: Account, now: dt.datetime | None = None
) -> list[tuple[uuid.UUID, Decimal, dt.datetime | None]]:
    """``[(lot, amount left, expires at), ...]`` as ``open_lots``. ``account.balance`` is trusted
    (the caller holds the account locked, or reads it for display): the newest ``NEWEST_FIRST`` lots
    with what each has left are read in one query, and only when they do not add up to the balance
    does one grouped pass over all the account's postings find the lots with something left."""
    now = now or timezone.now()
    if account.kind in LOT_KINDS and account.balance <= 0:
        return []
    found = _newest(org, account)
    if found is None:
        found = _all_open(org, account)
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    usable = [r for r in found if r[1] is None or r[1] > now]
    usable.sort(key=lambda r: (r[1] or far, r[2], r[0]))
    return [(pk, left, expires) for pk, expires, _, left in usable]


_Row = tuple[uuid.UUID, dt.datetime | None, dt.datetime, Decimal]


def _newest(org: Organization, account: Account) -> list[_Row] | None:
    rows = list(
        Posting.objects.for_org(org)
        .filter(account=account, lot__isnull=True, amount__gt=0)
        .annotate(used=_used())
        .order_by("-created_at", "-id")
        .values_list("pk", "expires_at", "created_at", "amount", "used")[:NEWEST_FIRST]
    )
    # (SQLite sums decimals as floats: each lot back to the unit's places)
    out = [
        (pk, exp, at, round_unit(Decimal(amount + used), account.unit)) for pk, exp, at, amount, used in rows
    ]
    if sum((r[3] for r in out), Decimal(0)) != account.balance:
        return None
    return [r for r in out if r[3] > 0]


def _all_open(org: Organization, account: Account) -> list[_Row]:
    """Every lot of the account with something left, in one statement: the postings grouped by the
    lot they belong to (``COALESCE(lot, id)``) keep the groups whose sum is positive, and those
    groups' opening postings are read with what each has left."""
    mine = Posting.objects.for_org(org).filter(account=account)
    roots = (
        mine.annotate(root=Coalesce("lot_id", "id"))
        .values("root")
        .annotate(left=Sum("amount"))
        .filter(left__gt=0)
        .values("root")
        .order_by()
    )
    rows = (
        mine.filter(pk__in=Subquery(roots))
        .annotate(used=_used())
        .values_list("pk", "expires_at", "created_at", "amount", "used")
    )
    # (SQLite sums decimals as floats: each lot back to the unit's places)
    out = [
        (pk, exp, at, round_unit(Decimal(amount + used), account.unit)) for pk, exp, at, amount, used in rows
    ]
    return [r for r in out if r[3] > 0]


def spendable(*, org: Organization, account: Account, now: dt.datetime | None = None) -> Decimal:
    """What the account can give now: its balance, less (for bonus and points) expired lots."""
    if account.kind not in LOT_KINDS:
        return account.balance
    return sum((left for _, left in open_lots(org=org, account=account, now=now)), Decimal(0))


def take_from_lots(
    *, org: Organization, account: Account, amount: Decimal, now: dt.datetime | None = None
) -> list[Leg]:
    """Legs taking ``amount`` out of the account's usable lots (first to expire first); fewer than
    asked when the lots hold less (the caller compares). Each leg carries what its lot had left
    (``lot_left``), so ``post`` need not read it again: the caller holds ``account`` locked."""
    legs, left = [], amount
    for lot, available in open_lots(org=org, account=account, now=now):
        take = min(available, left)
        legs.append(Leg(account, -take, lot=lot, lot_left=available))
        left -= take
        if left == 0:
            break
    return legs


def expired_lots(
    *, org: Organization, now: dt.datetime, limit: int = 500
) -> list[tuple[uuid.UUID, uuid.UUID, Decimal]]:
    """``[(account, lot, amount left), ...]`` of lots past their expiry that still hold value."""
    rows = (
        Posting.objects.for_org(org)
        .filter(lot__isnull=True, amount__gt=0, expires_at__lte=now)
        .filter(account__kind__in=sorted(LOT_KINDS))
        .annotate(used=_used())
        .values_list("account_id", "pk", "amount", "used")
        .order_by("expires_at", "pk")
    )
    out = []
    for account_id, pk, amount, used in rows.iterator():
        if amount + used > 0:
            out.append((account_id, pk, amount + used))
            if len(out) >= limit:
                break
    return out


def expire_due(*, org: Organization, at: dt.datetime | None = None, limit: int = 500) -> list[Transaction]:
    """Move what the lots expired by ``at`` (timezone-aware; default now) have left to the clinic's
    ``expired`` account: one transaction per account, dated ``at`` (never later than now). Bounded by
    ``limit`` lots a run; idempotent: a lot with nothing left is skipped, so a rerun posts nothing, and
    a lot expiring after ``at`` is left for a later run."""
    now = timezone.now()
    if at is None:
        at = now
    elif timezone.is_naive(at):
        raise ValueError("expire_due: `at` must be timezone-aware")
    by_account: dict[uuid.UUID, list[uuid.UUID]] = {}
    for account_id, lot, _ in expired_lots(org=org, now=at, limit=limit):
        by_account.setdefault(account_id, []).append(lot)
    done = []
    for account_id, lots in by_account.items():
        with db_transaction.atomic():
            locked = lock([Account(pk=account_id)])
            account = locked[account_id]
            left = lot_remaining(org=org, lots=lots)
            legs = [Leg(account, -amount, lot=lot) for lot, amount in left.items() if amount > 0]
            if not legs:
                continue
            total = sum((-leg.amount for leg in legs), Decimal(0))
            sink = account_for(org=org, kind=AccountKind.EXPIRED, unit=account.unit)
            legs.append(Leg(sink, total))
            done.append(
                post(
                    org=org,
                    kind=TxKind.EXPIRE,
                    legs=legs,
                    locked=locked,
                    patient=account.patient,
                    memo="expired",
                    at=min(at, now),
                )
            )
    return done
