"""A patient's stored value: top-up (with a stored-value plan's bonus), spend, refund.

The wallet in one currency is two accounts: ``money`` (what the patient paid in) and ``bonus`` (what
the clinic added, in lots that may expire). **Spend order: bonus first, then money.** Within the
bonus, the lot that expires first is used first (lots without expiry last). The bonus expires and
the money does not, so this order never lets a patient lose value to expiry that a payment could
have used; and points are earned only on the part paid from ``money`` (never on bonus), at the
points programme's rate for the service category.

Every service reads and locks the patient's accounts (``SELECT ... FOR UPDATE``; with the clinic's
accounts, one statement: ``journal.accounts_locked``), checks, and posts one balanced transaction; a
refusal posts nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction as db_transaction
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import AuditAction, Organization
from clinicflow.ledger.models import (
    POINTS,
    AccountKind,
    MembershipPlan,
    PlanKind,
    PointsProgram,
    Transaction,
    TxKind,
)
from clinicflow.ledger.services.inputs import clean_amount, clean_currency
from clinicflow.ledger.services.journal import Leg, accounts_locked, post, round_unit
from clinicflow.ledger.services.lots import take_from_lots
from clinicflow.patients.models import Patient


def audit_money(org: Organization, actor: User | None, txn: Transaction, request: object) -> None:
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="ledger_transaction",
        object_id=txn.pk,
        fields=["kind", "amount", "currency"],
        request=request,  # type: ignore[arg-type]
    )


def plan_for_top_up(
    *, org: Organization, plan: MembershipPlan | None, currency: str, amount: Decimal
) -> Decimal:
    """The bonus a stored-value plan adds to a top-up of ``amount`` (0 without a plan); refusals name
    the field (``plan``, ``currency`` or ``amount``)."""
    if plan is None:
        return Decimal(0)
    if plan.kind != PlanKind.STORED_VALUE:
        raise ValidationFailed.field("plan", "not a stored-value plan")
    today = timezone.localdate()
    if not plan.is_active or (plan.available_until is not None and plan.available_until < today):
        raise ValidationFailed.field("plan", "the plan is no longer sold (expired or withdrawn)")
    if plan.currency != currency:
        raise ValidationFailed.field("currency", f"the plan is sold in {plan.currency}")
    if amount != plan.price:
        raise ValidationFailed.field("amount", f"the plan costs {plan.price} {plan.currency}")
    return round_unit((plan.credit or plan.price) - plan.price, currency)


def wallet_top_up(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    amount: object,
    currency: object,
    plan: MembershipPlan | None = None,
    request: object = None,
) -> Transaction:
    """Money paid in (cash, card, transfer: the ``cash`` clearing account) onto the balance; with a
    stored-value plan, its bonus onto the bonus balance as one lot expiring after the plan's days."""
    unit = clean_currency(org, currency)
    paid = clean_amount(amount, unit)
    bonus = plan_for_top_up(org=org, plan=plan, currency=unit, amount=paid)
    now = timezone.now()
    with db_transaction.atomic():
        wanted = [(AccountKind.MONEY, unit), (AccountKind.CASH, unit)]
        if bonus > 0 and plan is not None:
            wanted += [(AccountKind.BONUS, unit), (AccountKind.BONUS_ISSUED, unit)]
        acc, locked = accounts_locked(org=org, patient=patient, wanted=wanted)
        money = acc[(AccountKind.MONEY, unit)]
        legs = [Leg(acc[(AccountKind.CASH, unit)], -paid), Leg(money, paid)]
        if bonus > 0 and plan is not None:
            held = acc[(AccountKind.BONUS, unit)]
            days = plan.bonus_valid_days
            expires = now + dt.timedelta(days=days) if days else None
            legs += [
                Leg(acc[(AccountKind.BONUS_ISSUED, unit)], -bonus),
                Leg(held, bonus, expires_at=expires),
            ]
        txn = post(
            org=org,
            kind=TxKind.TOP_UP,
            at=now,
            legs=legs,
            locked=locked,
            patient=patient,
            actor=actor,
            reference=plan.code if plan else "",
        )
        audit_money(org, actor, txn, request)
    return txn


def earn_rate(program: PointsProgram | None, category: str) -> Decimal:
    if program is None or not program.is_active:
        return Decimal(0)
    rate = program.category_rates.get(category) if category else None
    return Decimal(str(rate)) if rate is not None else program.default_rate


def points_program(*, org: Organization, currency: str) -> PointsProgram | None:
    return PointsProgram.objects.for_org(org).filter(currency=currency).first()


def wallet_spend(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    amount: object,
    currency: object,
    category: str = "",
    reference: str = "",
    request: object = None,
) -> Transaction:
    """Pay ``amount`` from the balance (bonus first, then money; see the module); never more than the
    spendable balance (a 409 naming ``amount``). Points are earned on the money part."""
    unit = clean_currency(org, currency)
    wanted = clean_amount(amount, unit)
    program = points_program(org=org, currency=unit)
    rate = earn_rate(program, category)
    now = timezone.now()
    with db_transaction.atomic():
        kinds = [(AccountKind.MONEY, unit), (AccountKind.BONUS, unit), (AccountKind.REVENUE, unit)]
        if rate:
            kinds += [(AccountKind.POINTS, POINTS), (AccountKind.POINTS_ISSUED, POINTS)]
        acc, locked = accounts_locked(org=org, patient=patient, wanted=kinds)
        money, bonus = acc[(AccountKind.MONEY, unit)], acc[(AccountKind.BONUS, unit)]
        points = acc.get((AccountKind.POINTS, POINTS))
        legs = take_from_lots(org=org, account=locked[bonus.pk], amount=wanted)
        from_money = wanted + sum((leg.amount for leg in legs), Decimal(0))
        if from_money > locked[money.pk].balance:
            raise Conflict(
                "the balance is not enough for this payment", fields={"amount": ["exceeds the balance"]}
            )
        if from_money > 0:
            legs.append(Leg(money, -from_money))
        legs.append(Leg(acc[(AccountKind.REVENUE, unit)], wanted))
        earned = round_unit(from_money * rate, POINTS)
        if points is not None and program is not None and earned > 0:
            days = program.valid_days
            expires = now + dt.timedelta(days=days) if days else None
            legs += [
                Leg(acc[(AccountKind.POINTS_ISSUED, POINTS)], -earned),
                Leg(points, earned, expires_at=expires),
            ]
        txn = post(
            org=org,
            kind=TxKind.SPEND,
            at=now,
            legs=legs,
            locked=locked,
            patient=patient,
            actor=actor,
            reference=reference,
        )
        audit_money(org, actor, txn, request)
    return txn


def wallet_refund(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    amount: object,
    currency: object,
    request: object = None,
) -> Transaction:
    """Pay money back out of the balance (the money part only: a bonus is never paid out in cash)."""
    unit = clean_currency(org, currency)
    wanted = clean_amount(amount, unit)
    with db_transaction.atomic():
        acc, locked = accounts_locked(
            org=org, patient=patient, wanted=[(AccountKind.MONEY, unit), (AccountKind.CASH, unit)]
        )
        money = acc[(AccountKind.MONEY, unit)]
        if wanted > locked[money.pk].balance:
            raise Conflict("more than the paid-in balance", fields={"amount": ["exceeds the balance"]})
        legs = [Leg(money, -wanted), Leg(acc[(AccountKind.CASH, unit)], wanted)]
        txn = post(org=org, kind=TxKind.REFUND, legs=legs, locked=locked, patient=patient, actor=actor)
        audit_money(org, actor, txn, request)
    return txn
