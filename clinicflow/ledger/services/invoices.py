"""Invoices: built from a visit (or from lines), and their discounts.

An invoice is in one currency (the branch's; every line in it, never mixed). A line's
``total = round(quantity × unit_price) - discount``; the invoice's ``subtotal`` is the sum of the
lines before discounts, ``discount`` the sum of the discounts, ``total = subtotal - discount``.

Discounts: a membership's (asked from ``services.benefits`` when the invoice is built), a quote's own
(carried from the accepted quote line), a coupon's (an amount already checked and counted by the
marketing app, which sits above the ledger: see ``docs/ledger.md``, *Coupons*), and a manual one (a
reason and the ``ledger.manage`` permission). An invoice-wide discount is split over the lines in
proportion to their totals (``split``). A discount never takes the total below what was paid.

Rounding: the ledger's one rule (ROUND_HALF_EVEN to the currency's minor unit); ``split`` rounds each
part so and gives the difference (a few minor units at most) to the largest part, so the parts add up
exactly to the whole."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction as db_transaction
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import has_permission
from clinicflow.booking.models import Appointment
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, PermissionDenied, ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.money import MINOR_UNITS
from clinicflow.ledger.models import (
    DiscountKind,
    Invoice,
    InvoiceDiscount,
    InvoiceLine,
    InvoiceSource,
)
from clinicflow.ledger.selectors.invoices import (
    LineDraft,
    invoice_get,
    invoice_lines,
    invoice_of_visit,
    visit_lines,
)
from clinicflow.ledger.services import benefits
from clinicflow.ledger.services.inputs import MAX_AMOUNT, clean_amount
from clinicflow.ledger.services.journal import round_unit
from clinicflow.patients.models import Patient

MAX_LINES = 50
MANUAL_PERMISSION = "ledger.manage"


def split(total: Decimal, weights: Sequence[Decimal], unit: str) -> list[Decimal]:
    """``total`` shared in proportion to ``weights`` (non-negative, not all zero), each part rounded
    half-even to the unit, the difference to the largest weight (the first of equals): the parts
    add up exactly to ``total``."""
    whole = sum(weights, Decimal(0))
    if whole <= 0:
        raise ValueError("nothing to split over")
    parts = [round_unit(total * w / whole, unit) for w in weights]
    largest = max(range(len(weights)), key=lambda i: (weights[i], -i))
    parts[largest] += total - sum(parts, Decimal(0))
    return parts


def new_number() -> str:
    return "INV-" + secrets.token_hex(5).upper()


def line_info(line: InvoiceLine) -> benefits.LineInfo:
    return benefits.LineInfo(
        position=line.position,
        service_id=line.service_id,
        category=line.category,
        quantity=line.quantity,
        unit_price=line.unit_price,
        total=line.total,
    )


def _check_lines(drafts: Sequence[LineDraft], currency: str) -> None:
    if not drafts:
        raise ValidationFailed.field("lines", "an invoice has at least one line")
    if len(drafts) > MAX_LINES:
        raise ValidationFailed.field("lines", f"at most {MAX_LINES} lines")
    for i, d in enumerate(drafts):
        if d.service is not None and d.service.currency != currency:
            raise ValidationFailed.field(
                f"lines[{i}].service", f"priced in {d.service.currency}, not {currency}"
            )
        if not isinstance(d.quantity, Decimal) or not isinstance(d.unit_price, Decimal):
            raise TypeError("invoice amounts are Decimal (never float)")
        if d.quantity <= 0 or d.quantity > 1000 or d.quantity != d.quantity.quantize(Decimal("0.01")):
            raise ValidationFailed.field(
                f"lines[{i}].quantity", "a positive quantity with at most 2 decimals"
            )
        if (
            d.unit_price < 0
            or d.unit_price >= MAX_AMOUNT
            or round_unit(d.unit_price, currency) != d.unit_price
        ):
            raise ValidationFailed.field(
                f"lines[{i}].unit_price", f"not negative, at most {MINOR_UNITS.get(currency, 2)} decimals"
            )
        if not d.service and not d.description.strip():
            raise ValidationFailed.field(
                f"lines[{i}].description", "a line names a service or says what it is"
            )


def invoice_create(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    branch: Branch,
    lines: Sequence[LineDraft],
    appointment: Appointment | None = None,
    note: str = "",
    request: object = None,
) -> Invoice:
    """A new open invoice in the branch's currency, with the membership discounts the patient's plans
    give (``benefits.membership_discounts``). A visit has one invoice: a second is a 409."""
    if patient.organization_id != org.pk or branch.organization_id != org.pk:
        raise ValidationFailed.field("patient", "no such patient in this clinic")
    if appointment is not None and (
        appointment.organization_id != org.pk or appointment.patient_id != patient.pk
    ):
        raise ValidationFailed.field("appointment", "not a visit of this patient")
    currency = branch.currency or org.currency
    _check_lines(lines, currency)
    now = timezone.now()
    with db_transaction.atomic():
        if appointment is not None and invoice_of_visit(org=org, appointment=appointment) is not None:
            raise Conflict("the visit already has an invoice", fields={"appointment": ["already invoiced"]})
        invoice = Invoice.objects.create(
            organization=org,
            number=new_number(),
            patient=patient,
            branch=branch,
            appointment=appointment,
            currency=currency,
            source=InvoiceSource.CHECKOUT,
            note=note[:300],
            created_by=actor,
            created_at=now,
        )
        rows = []
        for pos, d in enumerate(lines, start=1):
            gross = round_unit(d.quantity * d.unit_price, currency)
            discount = min(round_unit(d.discount, currency), gross)
            rows.append(
                InvoiceLine(
                    organization=org,
                    invoice=invoice,
                    position=pos,
                    service=d.service,
                    description=d.description[:300],
                    category=d.category[:20],
                    quantity=d.quantity,
                    unit_price=d.unit_price,
                    discount=discount,
                    total=gross - discount,
                    quote_line_ref=d.quote_line_ref,
                )
            )
        InvoiceLine.objects.bulk_create(rows)
        for row in rows:
            if row.discount > 0:
                InvoiceDiscount.objects.create(
                    organization=org,
                    invoice=invoice,
                    line=row,
                    kind=DiscountKind.QUOTE,
                    amount=row.discount,
                    reason="quote",
                    reference=str(row.quote_line_ref or ""),
                    created_by=actor,
                    created_at=now,
                )
        offered = benefits.membership_discounts(
            org=org, patient=patient, currency=currency, lines=[line_info(r) for r in rows], at=now
        )
        by_pos = {r.position: r for r in rows}
        for offer in offered:
            line = by_pos.get(offer.position)
            amount = min(round_unit(offer.amount, currency), line.total) if line else Decimal(0)
            if line is None or amount <= 0:
                continue
            line.discount += amount
            line.total -= amount
            InvoiceLine.objects.filter(pk=line.pk).update(discount=line.discount, total=line.total)
            InvoiceDiscount.objects.create(
                organization=org,
                invoice=invoice,
                line=line,
                kind=DiscountKind.MEMBERSHIP,
                amount=amount,
                reason=offer.reason[:200],
                reference=offer.reference[:100],
                created_by=actor,
                created_at=now,
            )
        _retotal(invoice, rows)
        audit_record(
            org=org,
            actor=actor,
            action=AuditAction.CREATE,
            object_type="invoice",
            object_id=invoice.pk,
            fields=["lines", "total"],
            request=request,  # type: ignore[arg-type]
        )
    return invoice


def invoice_for_visit(
    *, org: Organization, actor: User | None, appointment: Appointment, request: object = None
) -> Invoice:
    """The visit's invoice: the one it has, or a new one from the services done (``visit_lines``)."""
    found = invoice_of_visit(org=org, appointment=appointment)
    if found is not None:
        return found
    return invoice_create(
        org=org,
        actor=actor,
        patient=appointment.patient,
        branch=appointment.branch,
        lines=visit_lines(org=org, appointment=appointment),
        appointment=appointment,
        request=request,
    )


def _retotal(invoice: Invoice, lines: Sequence[InvoiceLine]) -> None:
    invoice.subtotal = sum((line.gross for line in lines), Decimal(0))
    invoice.discount = sum((line.discount for line in lines), Decimal(0))
    invoice.total = invoice.subtotal - invoice.discount
    Invoice.objects.filter(pk=invoice.pk).update(
        subtotal=invoice.subtotal, discount=invoice.discount, total=invoice.total
    )


def invoice_discount_add(
    *,
    org: Organization,
    actor: User | None,
    invoice: Invoice,
    kind: str,
    amount: object = None,
    percent: object = None,
    position: int | None = None,
    reason: str = "",
    reference: str = "",
    request: object = None,
) -> InvoiceDiscount:
    """Take ``amount`` (or ``percent`` of the total) off the invoice or one line (``position``).
    ``manual`` needs a reason and the ``ledger.manage`` permission; ``coupon`` an amount the marketing
    app checked and counted (``reference``: the redemption). Never below what was paid (409)."""
    if kind not in (DiscountKind.MANUAL, DiscountKind.COUPON, DiscountKind.MEMBERSHIP):
        raise ValidationFailed.field("kind", "one of manual, coupon, membership")
    reason = (reason or "").strip()
    if kind == DiscountKind.MANUAL:
        if actor is None or not has_permission(getattr(actor, "role", None), MANUAL_PERMISSION):
            raise PermissionDenied("a manual discount needs the ledger.manage permission")
        if not reason:
            raise ValidationFailed.field("reason", "say why the discount is given")
    if kind == DiscountKind.COUPON and not reference:
        raise ValidationFailed.field("reference", "the coupon's redemption")
    with db_transaction.atomic():
        locked = invoice_get(org=org, invoice_id=invoice.pk, lock=True)
        lines = invoice_lines(org=org, invoice=locked)
        targets = [ln for ln in lines if position is None or ln.position == position]
        if not targets:
            raise ValidationFailed.field("line", "no such line on the invoice")
        base = sum((ln.total for ln in targets), Decimal(0))
        value = _discount_value(amount, percent, base, locked.currency)
        if value > base:
            raise ValidationFailed.field("amount", "more than the lines cost")
        if locked.total - value < locked.paid:
            raise Conflict(
                "the discount would take the total below what was paid",
                fields={"amount": ["exceeds what is due"]},
            )
        parts = split(value, [ln.total for ln in targets], locked.currency) if base > 0 else []
        for line, part in zip(targets, parts, strict=True):
            if part:
                line.discount += part
                line.total -= part
                InvoiceLine.objects.filter(pk=line.pk).update(discount=line.discount, total=line.total)
        row = InvoiceDiscount.objects.create(
            organization=org,
            invoice=locked,
            line=targets[0] if position is not None else None,
            kind=kind,
            amount=value,
            reason=reason[:200],
            reference=str(reference)[:100],
            created_by=actor,
        )
        _retotal(locked, lines)
        invoice.subtotal, invoice.discount, invoice.total = locked.subtotal, locked.discount, locked.total
        audit_record(
            org=org,
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="invoice",
            object_id=locked.pk,
            fields=["discount", "total"],
            request=request,  # type: ignore[arg-type]
        )
    return row


def _discount_value(amount: object, percent: object, base: Decimal, currency: str) -> Decimal:
    if (amount in (None, "")) == (percent in (None, "")):
        raise ValidationFailed.field("amount", "send an amount or a percent, one of them")
    if amount not in (None, ""):
        return clean_amount(amount, currency)
    pct = clean_amount(percent, "EUR", field="percent")  # a percentage: 2 decimals
    if pct > 100:
        raise ValidationFailed.field("percent", "at most 100")
    value = round_unit(base * pct / 100, currency)
    if value <= 0:
        raise ValidationFailed.field("percent", "takes nothing off")
    return value
