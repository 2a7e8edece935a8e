"""Memberships: sell, share, freeze, renew, earn and cancel — every movement of money on the journal.

**Sale** of a fee-based or package plan: the price moves from the clinic's ``cash`` account into the
patient's ``prepaid`` account as one lot (the membership's ``lot``): money the clinic holds and has not
yet earned (the membership liability). A stored-value plan's sale is the wallet top-up (money plus a
bonus lot; ``services.wallet.wallet_top_up``), linked as the membership's ``sale``.

**Earning** (``membership_earn``): straight-line over the active term — ``price × active days elapsed
/ active days of the term`` (days frozen count for neither), rounded half-even to the currency's minor
unit; each run posts what was earned since the last (prepaid lot → ``revenue``). At the end of the
term the lot is empty. The periodic job ``memberships_earn_due`` runs it for every open lot.

**Freeze**: from now for ``days`` (at most what the plan's ``freezable_days`` leave); the end moves
by those days and no benefit is given while frozen. **Renew**: the same plan again, from the old end
(or now, when it ended). **Cancel**: refund = the pro-rata part of the price for the active days
left, minus the benefits used at list price (``MembershipUse``), never below zero nor above what the
lot has left; the rest of the lot is earned (``revenue``). Stored value
(``stored_value_cancel_terms``): the money part still on the balance (at most the price) is paid back;
the plan's bonus is never paid out and what its lot has left is forfeited (to ``expired``).

Every refusal names its field and posts nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol, TypeVar

from django.db import transaction as db_transaction
from django.db.models import Sum
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import Organization
from clinicflow.ledger.models import (
    AccountKind,
    Membership,
    MembershipMember,
    MembershipPlan,
    MembershipStatus,
    MembershipUse,
    PlanKind,
    PlanPeriod,
    Posting,
    Transaction,
    TxKind,
)
from clinicflow.ledger.services.journal import Leg, accounts_locked, lot_remaining, post, round_unit
from clinicflow.ledger.services.wallet import audit_money, wallet_refund, wallet_top_up
from clinicflow.patients.models import Patient

DAY = dt.timedelta(days=1)


def term_days(plan: MembershipPlan) -> int:
    """The plan's term: ``duration_days``, else a month (30 days) or a year (365 days); a stored-value
    plan lasts as long as its bonus (else a year)."""
    if plan.duration_days:
        return plan.duration_days
    if plan.kind == PlanKind.STORED_VALUE and plan.bonus_valid_days:
        return plan.bonus_valid_days
    return 30 if plan.period == PlanPeriod.MONTH else 365


def _on_sale(plan: MembershipPlan, org: Organization, today: dt.date) -> None:
    if plan.organization_id != org.pk:
        raise ValidationFailed.field("plan", "no such plan")
    if not plan.is_active or (plan.available_until is not None and plan.available_until < today):
        raise ValidationFailed.field("plan", "the plan is no longer sold (expired or withdrawn)")


def _family(
    org: Organization, plan: MembershipPlan, patient: Patient, members: Iterable[Patient]
) -> list[Patient]:
    found = [m for m in members if m.pk != patient.pk]
    if found and not plan.shareable:
        raise ValidationFailed.field("members", "this plan is not shared with family members")
    if any(m.organization_id != org.pk for m in found):
        raise ValidationFailed.field("members", "no such patient in this clinic")
    return found


def membership_sell(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    plan: MembershipPlan,
    members: Iterable[Patient] = (),
    starts_at: dt.datetime | None = None,
    renewed_from: Membership | None = None,
    request: object = None,
) -> Membership:
    """Sell ``plan`` to ``patient`` (paid now by cash, card or transfer); see the module."""
    now = timezone.now()
    _on_sale(plan, org, timezone.localdate())
    family = _family(org, plan, patient, members)
    start = max(starts_at or now, now) if renewed_from is None else (starts_at or now)
    ends = start + term_days(plan) * DAY
    with db_transaction.atomic():
        if plan.kind == PlanKind.STORED_VALUE:
            txn = wallet_top_up(
                org=org, actor=actor, patient=patient, amount=plan.price, currency=plan.currency, plan=plan,
                request=request,
            )  # fmt: skip
            lot = None
        else:
            cur = plan.currency
            acc, locked = accounts_locked(
                org=org, patient=patient, wanted=[(AccountKind.PREPAID, cur), (AccountKind.CASH, cur)]
            )
            held = acc[(AccountKind.PREPAID, cur)]
            legs = [Leg(acc[(AccountKind.CASH, cur)], -plan.price), Leg(held, plan.price)]
            txn = post(
                org=org, kind=TxKind.MEMBERSHIP_SALE, at=now, legs=legs, locked=locked,
                patient=patient, actor=actor, reference=plan.code,
            )  # fmt: skip
            lot = next(p for p in txn.lines if p.account_id == held.pk)  # type: ignore[attr-defined]
            audit_money(org, actor, txn, request)
        membership = Membership.objects.create(
            organization=org, patient=patient, plan=plan, currency=plan.currency, price=plan.price,
            starts_at=start, ends_at=ends, sale=txn, lot=lot, renewed_from=renewed_from, created_by=actor,
            created_at=now,
        )  # fmt: skip
        MembershipMember.objects.bulk_create(
            [MembershipMember(organization=org, membership=membership, patient=m) for m in family]
        )
    return membership


def _left(org: Organization, membership: Membership) -> Decimal:
    if membership.lot_id is None:
        return Decimal(0)
    return lot_remaining(org=org, lots=[membership.lot_id]).get(membership.lot_id, Decimal(0))


class Term(Protocol):
    """What the earning arithmetic reads of a membership (a row read in bulk will do)."""

    @property
    def starts_at(self) -> dt.datetime: ...
    @property
    def ends_at(self) -> dt.datetime: ...
    @property
    def frozen_days(self) -> int: ...
    @property
    def frozen_from(self) -> dt.datetime | None: ...
    @property
    def frozen_until(self) -> dt.datetime | None: ...
    @property
    def price(self) -> Decimal: ...
    @property
    def currency(self) -> str: ...


def _active_seconds(m: Term, until: dt.datetime) -> float:
    """Seconds the membership was active from its start to ``until`` (frozen time excluded)."""
    until = min(until, m.ends_at)
    if until <= m.starts_at:
        return 0.0
    frozen = dt.timedelta(days=m.frozen_days)
    if m.frozen_from and m.frozen_until and until < m.frozen_until:
        # inside the last freeze: the part of it still ahead has not been frozen yet
        frozen -= m.frozen_until - max(until, m.frozen_from)
    return max((until - m.starts_at - frozen).total_seconds(), 0.0)


def earned_share(m: Term, at: dt.datetime) -> Decimal:
    """The share of the price earned by ``at`` (0..1): active time elapsed / active term."""
    term = (m.ends_at - m.starts_at - dt.timedelta(days=m.frozen_days)).total_seconds()
    if term <= 0:
        return Decimal(1)
    return min(Decimal(1), Decimal(str(_active_seconds(m, at))) / Decimal(str(term)))


def amount_to_earn(m: Term, left: Decimal, at: dt.datetime) -> Decimal:
    """What earning at ``at`` posts from a lot with ``left`` in it: the fee earned by then less what
    was earned before (zero or less: nothing to post)."""
    due = round_unit(m.price * earned_share(m, at), m.currency)
    return min(left, due - (m.price - left))


def membership_earn(
    *, org: Organization, membership: Membership, at: dt.datetime | None = None
) -> Transaction | None:
    """Post the part of the fee earned since the last run (prepaid lot → revenue); None if nothing."""
    at = at or timezone.now()
    if membership.lot_id is None or membership.status == MembershipStatus.CANCELLED:
        return None
    with db_transaction.atomic():
        unit = membership.currency
        acc, locked = accounts_locked(
            org=org,
            patient=membership.patient,
            wanted=[(AccountKind.PREPAID, unit), (AccountKind.REVENUE, unit)],
        )
        held = acc[(AccountKind.PREPAID, unit)]
        amount = amount_to_earn(membership, _left(org, membership), at)
        if amount <= 0:
            return None
        legs = [Leg(held, -amount, lot=membership.lot_id), Leg(acc[(AccountKind.REVENUE, unit)], amount)]
        return post(
            org=org, kind=TxKind.MEMBERSHIP_EARN, at=at, legs=legs, locked=locked,
            patient=membership.patient, reference=str(membership.pk),
        )  # fmt: skip


def memberships_earn_due(*, org: Organization, at: dt.datetime | None = None, limit: int = 500) -> int:
    """Earn every open membership's fee up to ``at`` (bounded; idempotent): the number posted."""
    at = at or timezone.now()
    qs = (
        Membership.objects.for_org(org)
        .filter(status=MembershipStatus.ACTIVE, lot__isnull=False, starts_at__lt=at)
        .select_related("patient")
        .order_by("starts_at", "pk")
    )
    done = 0
    for m in qs.iterator():
        if membership_earn(org=org, membership=m, at=at) is not None:
            done += 1
            if done >= limit:
                break
    return done


def _held(org: Organization, membership: Membership) -> Membership:
    if membership.organization_id != org.pk:
        raise ValidationFailed.field("membership", "no such membership")
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.status == MembershipStatus.CANCELLED:
        raise Conflict("the membership was cancelled", fields={"membership": ["cancelled"]})
    return locked


def membership_freeze(
    *, org: Organization, actor: User | None, membership: Membership, days: object
) -> Membership:
    """Freeze from now for ``days`` (within what the plan's ``freezable_days`` leave)."""
    try:
        count = int(str(days))
    except ValueError as exc:
        raise ValidationFailed.field("days", "a whole number of days") from exc
    if count <= 0:
        raise ValidationFailed.field("days", "must be greater than zero")
    now = timezone.now()
    with db_transaction.atomic():
        m = _held(org, membership)
        state = m.state_at(now)
        if state != MembershipStatus.ACTIVE:
            raise Conflict(f"the membership is {state}", fields={"membership": [state]})
        allowed = m.plan.freezable_days - m.frozen_days
        if count > allowed:
            raise ValidationFailed.field("days", f"the plan allows {max(allowed, 0)} more days of freezing")
        membership_earn(org=org, membership=m, at=now)
        m.frozen_from, m.frozen_until = now, now + count * DAY
        m.frozen_days += count
        m.ends_at += count * DAY
        m.save(update_fields=["frozen_from", "frozen_until", "frozen_days", "ends_at"])
    return m


def membership_renew(
    *, org: Organization, actor: User | None, membership: Membership, request: object = None
) -> Membership:
    """The same plan again from the old end (or from now when it has ended); family kept."""
    members = [mm.patient for mm in MembershipMember.objects.for_org(org).filter(membership=membership)]
    if membership.status == MembershipStatus.CANCELLED:
        raise Conflict("a cancelled membership is not renewed", fields={"membership": ["cancelled"]})
    if Membership.objects.for_org(org).filter(renewed_from=membership).exists():
        raise Conflict("the membership was already renewed", fields={"membership": ["renewed"]})
    start = max(membership.ends_at, timezone.now())
    return membership_sell(
        org=org, actor=actor, patient=membership.patient, plan=membership.plan, members=members,
        starts_at=start, renewed_from=membership, request=request,
    )  # fmt: skip


def used_value(*, org: Organization, membership: Membership) -> Decimal:
    """Benefits used, at list price (included procedures) or as the money taken off (discounts)."""
    total = MembershipUse.objects.for_org(org).filter(membership=membership).aggregate(s=Sum("value"))["s"]
    return total if total is not None else Decimal(0)


def refund_due(*, org: Organization, membership: Membership, at: dt.datetime) -> Decimal:
    """Pro-rata of the price for the active time left, minus used benefits, within 0..lot left."""
    if membership.plan.kind == PlanKind.STORED_VALUE:
        return Decimal(0)
    pro_rata = round_unit(membership.price * (1 - earned_share(membership, at)), membership.currency)
    due = max(Decimal(0), pro_rata - used_value(org=org, membership=membership))
    return min(due, _left(org, membership))


Amount = TypeVar("Amount", int, Decimal)


def stored_value_cancel_terms(
    *, price: Amount, money_left: Amount, bonus_left: Amount
) -> tuple[Amount, Amount]:
    """A stored-value plan's cancellation, ``(refund, forfeited)``: the money part still on the balance
    is paid back, at most the plan's price; what the plan's bonus lot has left is forfeited. (The one
    rule: ``membership_cancel`` applies it, and the simulator with amounts in minor units.)"""
    return min(price, max(money_left, 0 * price)), max(bonus_left, 0 * price)


def _cancel_stored_value(
    org: Organization, actor: User | None, m: Membership, at: dt.datetime, request: object
) -> Decimal:
    """Pay back the money part, forfeit what the plan's bonus lot has left; returns the refund."""
    # the sale's opening bonus posting (immutable), then the accounts locked before any balance is read
    opened = (
        Posting.objects.for_org(org)
        .filter(transaction=m.sale, account__kind=AccountKind.BONUS, lot__isnull=True, amount__gt=0)
        .first()
    )
    cur = m.currency
    wanted = [(AccountKind.MONEY, cur)]
    if opened is not None:
        wanted += [(AccountKind.BONUS, cur), (AccountKind.EXPIRED, cur)]
    acc, locked = accounts_locked(org=org, patient=m.patient, wanted=wanted)
    money = acc[(AccountKind.MONEY, cur)]
    bonus_left = Decimal(0)
    if opened is not None:
        bonus_left = lot_remaining(org=org, lots=[opened.pk]).get(opened.pk) or Decimal(0)
    price: Decimal = m.price
    refund, forfeit = stored_value_cancel_terms(
        price=price, money_left=locked[money.pk].balance, bonus_left=bonus_left
    )
    if refund > 0:
        wallet_refund(
            org=org, actor=actor, patient=m.patient, amount=refund, currency=m.currency, request=request
        )
    if opened is not None and forfeit > 0:
        legs = [
            Leg(locked[opened.account_id], -forfeit, lot=opened.pk),
            Leg(acc[(AccountKind.EXPIRED, cur)], forfeit),
        ]
        txn = post(
            org=org, kind=TxKind.EXPIRE, at=at, legs=legs, locked=locked, patient=m.patient, actor=actor,
            memo="forfeited: stored-value plan cancelled", reference=str(m.pk),
        )  # fmt: skip
        audit_money(org, actor, txn, request)
    return refund


def membership_cancel(
    *, org: Organization, actor: User | None, membership: Membership, request: object = None
) -> Membership:
    """Cancel now with the refund of the rules (see the module); the rest of the fee is earned."""
    now = timezone.now()
    with db_transaction.atomic():
        m = _held(org, membership)
        refund = Decimal(0)
        if m.plan.kind == PlanKind.STORED_VALUE:
            refund = _cancel_stored_value(org, actor, m, now, request)
        elif m.lot_id is not None:
            cur = m.currency
            acc, locked = accounts_locked(
                org=org,
                patient=m.patient,
                wanted=[(AccountKind.PREPAID, cur), (AccountKind.CASH, cur), (AccountKind.REVENUE, cur)],
            )
            held = acc[(AccountKind.PREPAID, cur)]
            # the lot read after its account's lock: an earning run cannot post between the two
            refund = refund_due(org=org, membership=m, at=now)
            left = _left(org, m)
            if left > 0:
                legs = [Leg(held, -left, lot=m.lot_id)]
                if refund > 0:
                    legs.append(Leg(acc[(AccountKind.CASH, cur)], refund))
                if left - refund > 0:
                    legs.append(Leg(acc[(AccountKind.REVENUE, cur)], left - refund))
                txn = post(
                    org=org, kind=TxKind.MEMBERSHIP_CANCEL, at=now, legs=legs, locked=locked,
                    patient=m.patient, actor=actor, reference=str(m.pk),
                )  # fmt: skip
                audit_money(org, actor, txn, request)
        m.status, m.cancelled_at, m.refund = MembershipStatus.CANCELLED, now, refund
        m.save(update_fields=["status", "cancelled_at", "refund"])
    return m
