"""Paying an invoice: several tenders at once, each one balanced journal transaction.

``invoice_pay`` locks the invoice row (``SELECT ... FOR UPDATE``: two checkouts of one invoice run one
after the other, the second sees what the first paid), then every patient account the call touches,
read and locked before any balance is read (``journal.accounts_locked``: one statement on PostgreSQL,
primary-key order, so it never deadlocks with a wallet call), checks everything, and posts. A
refusal (4xx naming the field, e.g. ``tenders[1].amount``) posts nothing.

Tenders and their postings (``docs/ledger.md``, *Checkout*):

- cash, card, transfer, online: ``cash`` → ``revenue`` (kind ``payment``); a ``booking.Payment``
  with the same method (revenue).
- balance: like ``wallet_spend`` — bonus first (the lot expiring first), then money — into
  ``revenue`` (kind ``spend``); the money part is revenue now (a ``booking.Payment``, method
  ``membership``): paid-in value is recognised when used, a bonus never is.
- points: points leave the patient's lots for ``points_redeemed``; their value (points × the
  programme's ``point_value``) goes ``discounts`` → ``revenue`` (kind ``redeem``); no revenue.
- included: a membership's included procedure pays one whole line (``benefits.use_included``, which
  posts and says what it recognises as revenue; that part becomes a ``booking.Payment``).

Points are then earned on the money received (outside money and the money part of the balance),
at each line's category rate, split over the lines in proportion to their totals."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from django.db import transaction as db_transaction
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking.models import PaymentMethod
from clinicflow.booking.services.payments import payment_record
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.ids import uuid7
from clinicflow.core.models import AuditAction, Organization
from clinicflow.core.money import Money
from clinicflow.ledger.models import (
    POINTS,
    Account,
    AccountKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceTender,
    PointsProgram,
    TenderKind,
    TenderMethod,
    Transaction,
    TxKind,
)
from clinicflow.ledger.models.invoices import CHECKOUT_METHODS, OUTSIDE_METHODS
from clinicflow.ledger.selectors.invoices import invoice_get, invoice_lines, invoice_tenders
from clinicflow.ledger.services import benefits
from clinicflow.ledger.services.inputs import clean_amount, clean_points
from clinicflow.ledger.services.invoices import line_info, split
from clinicflow.ledger.services.journal import Leg, accounts_locked, post, round_unit
from clinicflow.ledger.services.lots import take_from_lots
from clinicflow.ledger.services.wallet import earn_rate, points_program
from clinicflow.patients.models import Patient

MAX_TENDERS = 10


@dataclass(frozen=True)
class TenderIn:
    """One way of paying: ``amount`` (money) for cash, card, transfer, online and balance;
    ``points`` for points; ``line`` (its position) and ``membership`` for an included procedure."""

    method: str
    amount: object = None
    points: object = None
    line: int | None = None
    membership: str = ""


@dataclass
class _Plan:
    method: str
    amount: Decimal
    points: Decimal | None = None
    line: InvoiceLine | None = None
    membership: str = ""


def _plan(
    org: Organization,
    invoice: Invoice,
    lines: list[InvoiceLine],
    tenders: Sequence[TenderIn],
    program: PointsProgram | None,
) -> list[_Plan]:
    """The tenders checked and priced (amounts in the invoice's currency); refusals name the field."""
    if not tenders:
        raise ValidationFailed.field("tenders", "pay with at least one method")
    if len(tenders) > MAX_TENDERS:
        raise ValidationFailed.field("tenders", f"at most {MAX_TENDERS} methods at once")
    cur, out = invoice.currency, []
    by_pos = {ln.position: ln for ln in lines}
    for i, t in enumerate(tenders):
        name = f"tenders[{i}]"
        if t.method not in CHECKOUT_METHODS:
            raise ValidationFailed.field(f"{name}.method", f"one of {', '.join(CHECKOUT_METHODS)}")
        if t.method == TenderMethod.POINTS:
            count = clean_points(t.points, field=f"{name}.points")
            if program is None or not program.is_active:
                raise ValidationFailed.field(f"{name}.method", f"no points programme in {cur}")
            value = round_unit(count * program.point_value, cur)
            if value <= 0:
                raise ValidationFailed.field(f"{name}.points", "worth nothing at the programme's rate")
            out.append(_Plan(t.method, value, points=count))
        elif t.method == TenderMethod.INCLUDED:
            line = by_pos.get(t.line) if isinstance(t.line, int) else None
            if line is None:
                raise ValidationFailed.field(f"{name}.line", "no such line on the invoice")
            if not t.membership:
                raise ValidationFailed.field(f"{name}.membership", "the membership that includes it")
            if line.total <= 0:
                raise ValidationFailed.field(f"{name}.line", "nothing to pay on this line")
            out.append(_Plan(t.method, line.total, line=line, membership=str(t.membership)[:100]))
        else:
            out.append(_Plan(t.method, clean_amount(t.amount, cur, field=f"{name}.amount")))
    return out


def invoice_pay(
    *,
    org: Organization,
    actor: User | None,
    invoice: Invoice,
    tenders: Sequence[TenderIn],
    request: object = None,
) -> list[InvoiceTender]:
    """Pay the invoice with ``tenders`` (several methods at once); at most what is due (409 naming
    ``amount``). Returns the tenders written."""
    with db_transaction.atomic():
        locked = _lock_invoice(org, invoice)
        patient = locked.patient
        lines = invoice_lines(org=org, invoice=locked)
        program = points_program(org=org, currency=locked.currency)
        plans = _plan(org, locked, lines, tenders, program)
        asked = sum((p.amount for p in plans), Decimal(0))
        if asked > locked.due:
            raise Conflict(
                f"more than is due ({locked.due} {locked.currency})",
                fields={"amount": ["exceeds what is due"]},
            )
        _no_line_twice(org, locked, plans)
        accounts, held = _accounts(org, patient, locked.currency, plans, program)
        now, batch = timezone.now(), uuid7()
        written = [
            _tender(org, actor, locked, patient, plan, accounts, held, batch=batch, now=now, index=i)
            for i, plan in enumerate(plans)
        ]
        _earn(org, actor, locked, patient, lines, written, accounts, held, now, program)
        locked.paid += asked
        locked.status = InvoiceStatus.PAID if locked.paid == locked.total else InvoiceStatus.OPEN
        locked.paid_at = now if locked.status == InvoiceStatus.PAID else None
        Invoice.objects.filter(pk=locked.pk).update(
            paid=locked.paid, status=locked.status, paid_at=locked.paid_at, points_earned=locked.points_earned
        )
        if locked.status == InvoiceStatus.PAID:
            benefits.on_invoice_paid(org=org, actor=actor, invoice=locked)
        audit_record(
            org=org,
            actor=actor,
            action=AuditAction.CREATE,
            object_type="invoice_payment",
            object_id=locked.pk,
            fields=["method", "amount"],
            request=request,  # type: ignore[arg-type]
        )
    invoice.paid, invoice.status, invoice.paid_at = locked.paid, locked.status, locked.paid_at
    return written


def _lock_invoice(org: Organization, invoice: Invoice) -> Invoice:
    """The invoice's row under ``SELECT ... FOR UPDATE`` (that row only), with its patient, branch and
    visit read in the same query."""
    found = (
        Invoice.objects.for_org(org)
        .select_for_update(of=("self",))
        .select_related("patient", "branch", "appointment")
        .filter(pk=invoice.pk)
        .first()
    )
    if found is None:
        return invoice_get(org=org, invoice_id=invoice.pk, lock=True)  # the 404
    return found


def _no_line_twice(org: Organization, invoice: Invoice, plans: list[_Plan]) -> None:
    lines = [p.line.pk for p in plans if p.line is not None]
    if not lines:
        return
    if len(lines) != len(set(lines)):
        raise ValidationFailed.field("tenders", "a line is paid by one included procedure")
    paid = {t.line_id for t in invoice_tenders(org=org, invoice=invoice) if t.method == TenderMethod.INCLUDED}
    if paid & set(lines):
        raise Conflict(
            "the line was already paid by an included procedure", fields={"tenders": ["line paid"]}
        )


def _accounts(
    org: Organization, patient: Patient, cur: str, plans: list[_Plan], program: PointsProgram | None
) -> tuple[dict[str, Account], dict[uuid.UUID, Account]]:
    """Every account the call posts to (created on first use): the patient's by kind (``money``,
    ``bonus``, ``points``), the clinic's by kind and unit (``revenue:RUB``); and the patient's locked,
    by pk. Locked first (``accounts_locked``: read and locked in one statement on PostgreSQL), so
    no balance is read before its lock."""
    kinds = {p.method for p in plans}
    wanted: dict[str, tuple[str, str]] = {"revenue:" + cur: (AccountKind.REVENUE, cur)}
    if kinds & set(OUTSIDE_METHODS):
        wanted["cash:" + cur] = (AccountKind.CASH, cur)
    if TenderMethod.BALANCE in kinds:
        wanted["money"] = (AccountKind.MONEY, cur)
        wanted["bonus"] = (AccountKind.BONUS, cur)
    if TenderMethod.POINTS in kinds:
        wanted["points_redeemed:PTS"] = (AccountKind.POINTS_REDEEMED, POINTS)
        wanted["discounts:" + cur] = (AccountKind.DISCOUNTS, cur)
    if TenderMethod.POINTS in kinds or (program is not None and program.is_active):
        wanted["points"] = (AccountKind.POINTS, POINTS)
    if program is not None and program.is_active:
        wanted["points_issued:PTS"] = (AccountKind.POINTS_ISSUED, POINTS)
    found, held = accounts_locked(org=org, patient=patient, wanted=wanted.values())
    return {name: found[key] for name, key in wanted.items()}, held


def refresh(held: dict[uuid.UUID, Account]) -> None:
    """Re-read the locked accounts' cached balances after a posting (they stay locked). ``post``
    keeps the locked copies current itself; kept for callers outside checkout."""
    for account in Account.objects.filter(pk__in=list(held)):
        held[account.pk] = account


def _tender(
    org: Organization,
    actor: User | None,
    invoice: Invoice,
    patient: Patient,
    plan: _Plan,
    accounts: dict[str, Account],
    held: dict[uuid.UUID, Account],
    *,
    batch: uuid.UUID,
    now: dt.datetime,
    index: int,
) -> InvoiceTender:
    cur, amount = invoice.currency, plan.amount
    revenue_account = accounts["revenue:" + cur]
    revenue, txn, reference = Decimal(0), None, ""
    posting = partial(post, org=org, patient=patient, actor=actor, reference=invoice.number, at=now)
    if plan.method in OUTSIDE_METHODS:
        legs = [
            Leg(accounts["cash:" + cur], -amount),
            Leg(revenue_account, amount),
        ]
        txn = posting(kind=TxKind.PAYMENT, legs=legs, locked=held, memo=plan.method)
        revenue = amount
    elif plan.method == TenderMethod.BALANCE:
        money, bonus = accounts["money"], accounts["bonus"]
        legs = take_from_lots(org=org, account=held[bonus.pk], amount=amount, now=now)
        from_money = amount + sum((leg.amount for leg in legs), Decimal(0))
        if from_money > held[money.pk].balance:
            raise Conflict(
                "the balance is not enough for this payment",
                fields={f"tenders[{index}].amount": ["exceeds the balance"]},
            )
        if from_money > 0:
            legs.append(Leg(money, -from_money))
        txn = posting(kind=TxKind.SPEND, legs=[*legs, Leg(revenue_account, amount)], locked=held)
        revenue = from_money
    elif plan.method == TenderMethod.POINTS:
        assert plan.points is not None
        points = accounts["points"]
        legs = take_from_lots(org=org, account=held[points.pk], amount=plan.points, now=now)
        if -sum((leg.amount for leg in legs), Decimal(0)) < plan.points:
            raise Conflict(
                "not enough points", fields={f"tenders[{index}].points": ["exceeds the points held"]}
            )
        legs += [
            Leg(accounts["points_redeemed:PTS"], plan.points),
            Leg(accounts["discounts:" + cur], -amount),
            Leg(revenue_account, amount),
        ]
        txn = posting(kind=TxKind.REDEEM, legs=legs, locked=held)
    else:
        assert plan.line is not None
        use = benefits.use_included(
            org=org,
            actor=actor,
            patient=patient,
            currency=cur,
            line=line_info(plan.line),
            membership=plan.membership,
            invoice_ref=invoice.number,
            at=now,
        )
        txn, reference = use.transaction, use.reference[:100]
        revenue = min(round_unit(use.recognised, cur), amount)
    payment = None
    if revenue > 0:
        method = plan.method if plan.method in OUTSIDE_METHODS else PaymentMethod.MEMBERSHIP
        payment = payment_record(
            org=org,
            actor=actor,
            patient=patient,
            branch=invoice.branch,
            amount=Money(revenue, cur),
            method=method,
            appointment=invoice.appointment,
            paid_at=now,
            note=f"{invoice.number} {plan.method}",
        )
    return InvoiceTender.objects.create(
        organization=org,
        invoice=invoice,
        kind=TenderKind.PAYMENT,
        method=plan.method,
        amount=amount,
        points=plan.points,
        revenue=revenue,
        line=plan.line,
        transaction=txn,
        payment=payment,
        batch=batch,
        reference=reference or plan.membership,
        created_by=actor,
        created_at=now,
    )


def earnable(tenders: Sequence[InvoiceTender]) -> Decimal:
    """The money received by these tenders that earns points: outside money and balance money."""
    return sum(
        (
            Decimal(t.amount if t.method in OUTSIDE_METHODS else t.revenue)
            for t in tenders
            if t.method in OUTSIDE_METHODS or t.method == TenderMethod.BALANCE
        ),
        Decimal(0),
    )


def _earn(
    org: Organization,
    actor: User | None,
    invoice: Invoice,
    patient: Patient,
    lines: list[InvoiceLine],
    written: list[InvoiceTender],
    accounts: dict[str, Account],
    held: dict[uuid.UUID, Account],
    now: dt.datetime,
    program: PointsProgram | None,
) -> Transaction | None:
    basis = earnable(written)
    weights = [ln.total for ln in lines]
    if (
        basis <= 0
        or program is None
        or not program.is_active
        or "points" not in accounts
        or "points_issued:PTS" not in accounts
        or sum(weights) <= 0
    ):
        return None
    parts = split(basis, weights, invoice.currency)
    raw = sum(
        (part * earn_rate(program, ln.category) for part, ln in zip(parts, lines, strict=True)), Decimal(0)
    )
    earned = round_unit(raw, POINTS)
    if earned <= 0:
        return None
    expires = now + dt.timedelta(days=program.valid_days) if program.valid_days else None
    legs = [
        Leg(accounts["points_issued:PTS"], -earned),
        Leg(accounts["points"], earned, expires_at=expires),
    ]
    txn = post(
        org=org,
        kind=TxKind.EARN,
        legs=legs,
        locked=held,
        patient=patient,
        actor=actor,
        reference=invoice.number,
        at=now,
    )
    invoice.points_earned += earned
    return txn
