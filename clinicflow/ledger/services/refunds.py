"""Refunds of an invoice, whole or part, back to the tenders that paid it.

``invoice_refund`` locks the invoice row (two refunds of one invoice run one after the other: the
second sees the first, so the refunds never exceed what was paid), then the patient's accounts. The
refund is shared over the paying tenders in proportion to what each has left to refund (``split``),
unless the caller names the tenders (``parts``). Each part is one journal transaction (kind
``refund``) back to where the tender took the value from:

- cash, card, transfer, online: ``revenue`` → ``cash``; a ``booking.Payment`` of kind ``refund``;
- balance: back to the money and bonus lots in the proportion the tender took them (the money part
  rounded half-even on the running total, so parts never return more money than was taken); the money
  part is a ``booking.Payment`` refund (method ``membership``);
- points: the points back to the lots they came from, in proportion (whole points, rounded on the
  running total); no revenue;
- included: only whole (``benefits.release_included`` gives the use back); its revenue is refunded.

What was derived from the payment follows: the revenue reports and lifetime values read the refund
rows (net of refunds); points earned on the refunded money are taken back in proportion (never more
than the patient still holds: what was spent already is not clawed); ``benefits.on_invoice_refunded``
reverses what memberships derived (e.g. a referral reward)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal
from functools import partial

from django.db import transaction as db_transaction
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking.models import PaymentKind, PaymentMethod
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
    InvoiceStatus,
    InvoiceTender,
    Posting,
    TenderKind,
    TenderMethod,
    TxKind,
)
from clinicflow.ledger.models.invoices import OUTSIDE_METHODS
from clinicflow.ledger.selectors.invoices import invoice_get, invoice_tenders, refunded_by_tender
from clinicflow.ledger.services import benefits
from clinicflow.ledger.services.checkout import earnable, refresh
from clinicflow.ledger.services.inputs import clean_amount
from clinicflow.ledger.services.invoices import split
from clinicflow.ledger.services.journal import Leg, account_for, accounts_locked, post, round_unit
from clinicflow.ledger.services.lots import take_from_lots
from clinicflow.patients.models import Patient


def _parts(
    invoice: Invoice,
    paying: list[InvoiceTender],
    left: dict[uuid.UUID, Decimal],
    amount: Decimal,
    parts: Sequence[tuple[object, object]] | None,
) -> list[tuple[InvoiceTender, Decimal]]:
    if parts:
        by_id = {str(t.pk): t for t in paying}
        out: list[tuple[InvoiceTender, Decimal]] = []
        for i, (tender_id, value) in enumerate(parts):
            tender = by_id.get(str(tender_id))
            if tender is None:
                raise ValidationFailed.field(f"parts[{i}].payment", "not a payment of this invoice")
            part = clean_amount(value, invoice.currency, field=f"parts[{i}].amount")
            if part > left[tender.pk] - sum((p for t, p in out if t.pk == tender.pk), Decimal(0)):
                raise Conflict(
                    "more than this payment has left", fields={f"parts[{i}].amount": ["exceeds it"]}
                )
            out.append((tender, part))
        if sum((p for _, p in out), Decimal(0)) != amount:
            raise ValidationFailed.field("parts", "the parts add up to the amount")
        return out
    open_ = [t for t in paying if left[t.pk] > 0]
    shares = split(amount, [left[t.pk] for t in open_], invoice.currency)
    return [(t, s) for t, s in zip(open_, shares, strict=True) if s > 0]


def invoice_refund(
    *,
    org: Organization,
    actor: User | None,
    invoice: Invoice,
    amount: object,
    reason: str = "",
    parts: Sequence[tuple[object, object]] | None = None,
    request: object = None,
) -> list[InvoiceTender]:
    """Pay ``amount`` back (at most what was paid and not yet refunded: a 409 naming ``amount``)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.field("reason", "say why the money is refunded")
    with db_transaction.atomic():
        locked = invoice_get(org=org, invoice_id=invoice.pk, lock=True)
        value = clean_amount(amount, locked.currency)
        if value > locked.net:
            raise Conflict(
                f"more than was paid and not refunded ({locked.net} {locked.currency})",
                fields={"amount": ["exceeds what was paid"]},
            )
        patient = Patient.objects.for_org(org).get(pk=locked.patient_id)
        paying = [t for t in invoice_tenders(org=org, invoice=locked) if t.kind == TenderKind.PAYMENT]
        done = refunded_by_tender(org=org, invoice=locked)
        left = {t.pk: t.amount - done.get(t.pk, (Decimal(0), Decimal(0)))[0] for t in paying}
        chosen = _parts(locked, paying, left, value, parts)
        for tender, part in chosen:
            if tender.method == TenderMethod.INCLUDED and part != left[tender.pk]:
                raise ValidationFailed.field("amount", "an included procedure is refunded whole")
        cur = locked.currency
        acc, held = accounts_locked(
            org=org,
            patient=patient,
            wanted=[(AccountKind.MONEY, cur), (AccountKind.BONUS, cur), (AccountKind.POINTS, POINTS)],
        )
        now, batch = timezone.now(), uuid7()
        written = []
        for tender, part in chosen:
            before = done.get(tender.pk, (Decimal(0), Decimal(0)))
            written.append(
                _refund_one(org, actor, locked, patient, tender, part, before, held, batch, reason, now)
            )
            refresh(held)
        _take_back_points(org, actor, locked, patient, acc[(AccountKind.POINTS, POINTS)], held, value)
        locked.refunded += value
        locked.status = (
            InvoiceStatus.REFUNDED if locked.refunded == locked.paid else InvoiceStatus.PART_REFUNDED
        )
        Invoice.objects.filter(pk=locked.pk).update(
            refunded=locked.refunded, status=locked.status, points_taken_back=locked.points_taken_back
        )
        benefits.on_invoice_refunded(org=org, actor=actor, invoice=locked, amount=value)
        audit_record(
            org=org,
            actor=actor,
            action=AuditAction.CREATE,
            object_type="invoice_refund",
            object_id=locked.pk,
            fields=["amount", "reason"],
            request=request,  # type: ignore[arg-type]
        )
    invoice.refunded, invoice.status = locked.refunded, locked.status
    return written


def _cumulative(total: Decimal, taken: Decimal, after: Decimal, before: Decimal, unit: str) -> Decimal:
    """The share of ``taken`` that ``after`` of ``total`` refunded gives back, less the share that
    ``before`` already gave (rounded on the running total, so the parts add up to ``taken``)."""
    return round_unit(taken * after / total, unit) - round_unit(taken * before / total, unit)


def _refund_one(
    org: Organization,
    actor: User | None,
    invoice: Invoice,
    patient: Patient,
    tender: InvoiceTender,
    part: Decimal,
    before: tuple[Decimal, Decimal],
    held: dict[uuid.UUID, Account],
    batch: uuid.UUID,
    reason: str,
    now: dt.datetime,
) -> InvoiceTender:
    cur = invoice.currency
    revenue_account = account_for(org=org, kind=AccountKind.REVENUE, unit=cur)
    posting = partial(
        post,
        org=org,
        patient=patient,
        actor=actor,
        reference=invoice.number,
        memo=reason,
        at=now,
    )
    txn, revenue, points = None, Decimal(0), None
    refunded_before, after = before[0], before[0] + part
    if tender.method in OUTSIDE_METHODS:
        legs = [Leg(revenue_account, -part), Leg(account_for(org=org, kind=AccountKind.CASH, unit=cur), part)]
        txn = posting(kind=TxKind.REFUND, legs=legs, locked=held)
        revenue = part
    elif tender.method in (TenderMethod.BALANCE, TenderMethod.POINTS):
        took = list(
            Posting.objects.for_org(org)
            .filter(transaction=tender.transaction, amount__lt=0, account__patient=patient)
            .select_related("account")
            .order_by("id")
        )
        legs = [Leg(revenue_account, -part)]
        if tender.method == TenderMethod.BALANCE:
            money = [p for p in took if p.account.kind == AccountKind.MONEY]
            bonus = [p for p in took if p.account.kind == AccountKind.BONUS]
            revenue = _cumulative(tender.amount, tender.revenue, after, refunded_before, cur)
            if revenue > 0:
                legs.append(Leg(money[0].account, revenue))
            rest = part - revenue
            if rest > 0:
                shares = split(rest, [-p.amount for p in bonus], cur)
                legs += [Leg(p.account, s, lot=p.lot_id) for p, s in zip(bonus, shares, strict=True) if s]
        else:
            assert tender.points is not None
            points = _cumulative(tender.amount, tender.points, after, refunded_before, POINTS)
            legs.append(Leg(account_for(org=org, kind=AccountKind.DISCOUNTS, unit=cur), part))
            if points > 0:
                shares = split(points, [-p.amount for p in took], POINTS)
                legs += [Leg(p.account, s, lot=p.lot_id) for p, s in zip(took, shares, strict=True) if s]
                legs.append(Leg(account_for(org=org, kind=AccountKind.POINTS_REDEEMED, unit=POINTS), -points))
        txn = posting(kind=TxKind.REFUND, legs=legs, locked=held)
    else:
        txn = benefits.release_included(
            org=org, actor=actor, patient=patient, use_reference=tender.reference, invoice_ref=invoice.number
        )
        revenue = tender.revenue
    payment = None
    if revenue > 0:
        method = tender.method if tender.method in OUTSIDE_METHODS else PaymentMethod.MEMBERSHIP
        payment = payment_record(
            org=org,
            actor=actor,
            patient=patient,
            branch=invoice.branch,
            amount=Money(revenue, cur),
            method=method,
            appointment=invoice.appointment,
            kind=PaymentKind.REFUND,
            note=f"{invoice.number} {tender.method} refund",
        )
    return InvoiceTender.objects.create(
        organization=org,
        invoice=invoice,
        kind=TenderKind.REFUND,
        method=tender.method,
        amount=part,
        points=points,
        revenue=revenue,
        refund_of=tender,
        line=tender.line,
        transaction=txn,
        payment=payment,
        batch=batch,
        reason=reason[:200],
        created_by=actor,
    )


def _take_back_points(
    org: Organization,
    actor: User | None,
    invoice: Invoice,
    patient: Patient,
    points: Account,
    held: dict[uuid.UUID, Account],
    value: Decimal,
) -> None:
    """Points earned on money now refunded go back, in proportion to the money refunded (at most what
    the patient still holds)."""
    if invoice.points_earned <= 0:
        return
    tenders = invoice_tenders(org=org, invoice=invoice)
    received = earnable([t for t in tenders if t.kind == TenderKind.PAYMENT])
    returned = sum(
        (t.amount if t.method in OUTSIDE_METHODS else t.revenue)
        for t in tenders
        if t.kind == TenderKind.REFUND and (t.method in OUTSIDE_METHODS or t.method == TenderMethod.BALANCE)
    )
    if received <= 0:
        return
    due = (
        round_unit(invoice.points_earned * min(returned, received) / received, POINTS)
        - invoice.points_taken_back
    )
    legs = take_from_lots(org=org, account=held[points.pk], amount=due) if due > 0 else []
    taken = -sum((leg.amount for leg in legs), Decimal(0))
    if taken <= 0:
        return
    legs.append(Leg(account_for(org=org, kind=AccountKind.POINTS_ISSUED, unit=POINTS), taken))
    post(
        org=org,
        kind=TxKind.REFUND,
        legs=legs,
        locked=held,
        patient=patient,
        actor=actor,
        reference=invoice.number,
        memo="points earned on a refunded payment",
    )
    refresh(held)
    invoice.points_taken_back += taken
