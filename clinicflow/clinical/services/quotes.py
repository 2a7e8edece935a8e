"""Writes of quotes: written from a consultation with catalogue prices of the day, sent by e-mail through
the outbox (the PDF attached, in the patient's language), accepted into booked appointments in one
step, or declined. Amounts are exact Decimals in the quote's one currency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone, translation

from clinicflow.accounts.models import User
from clinicflow.booking.selectors.slots import slots_find
from clinicflow.booking.services.appointments import appointment_book
from clinicflow.catalogue.models import Service
from clinicflow.catalogue.selectors import price_at
from clinicflow.clinical.models.consultations import (
    Consultation,
    DiscountKind,
    LineKind,
    Quote,
    QuoteLine,
    QuoteStatus,
)
from clinicflow.clinical.quote_pdf import quote_pdf
from clinicflow.clinical.selectors import consultations as selectors
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.formatting import fmt_date_full, fmt_money
from clinicflow.core.models import AuditAction, Organization
from clinicflow.core.money import Money, MoneyError, money_sum, quantize, to_decimal
from clinicflow.core.selectors import parse_uuid
from clinicflow.messaging.models import Channel
from clinicflow.messaging.rendering import language_for
from clinicflow.messaging.services import message_enqueue

MAX_LINES = 40
VALID_DAYS = 30
SLOT_SEARCH_DAYS = 90
OPEN = (QuoteStatus.DRAFT, QuoteStatus.SENT)


def _decimal(name: str, value: object, *, default: Decimal | None = None) -> Decimal:
    if value in (None, "") and default is not None:
        return default
    try:
        return to_decimal(value)
    except MoneyError as exc:
        raise ValidationFailed.field(name, "must be a number (no floats)") from exc


def _discount(
    at: str, data: Mapping[str, Any], gross: Decimal, currency: str
) -> tuple[str, Decimal, str, Decimal]:
    """(kind, value, reason, amount off) of a line's discount: a percent above 0 and at most 100, or an
    amount above 0 and at most the line's price; either with a reason."""
    discount_kind = str(data.get("discount_kind") or "")
    value = _decimal(f"{at}.discount_value", data.get("discount_value"), default=Decimal(0))
    reason = str(data.get("discount_reason") or "").strip()[:200]
    if discount_kind not in DiscountKind.values:
        raise ValidationFailed.field(f"{at}.discount_kind", "must be percent, amount or empty")
    if discount_kind == DiscountKind.NONE:
        value, off = Decimal(0), Decimal(0)
    elif discount_kind == DiscountKind.PERCENT:
        if not Decimal(0) < value <= Decimal(100):
            raise ValidationFailed.field(f"{at}.discount_value", "a percentage above 0, at most 100")
        off = quantize(gross * value / Decimal(100), currency)
    else:
        if not Decimal(0) < value <= gross:
            raise ValidationFailed.field(
                f"{at}.discount_value", "an amount above 0, at most the line's price"
            )
        off = quantize(value, currency)
    if discount_kind and not reason:
        raise ValidationFailed.field(f"{at}.discount_reason", "a discount needs a reason")
    return discount_kind, value, reason, off


def _line(
    *, org: Organization, consultation: Consultation, day: dt.date, index: int, data: Mapping[str, Any]
) -> QuoteLine:
    """One unsaved line, priced and totalled; ValidationFailed naming ``lines[i].field``."""
    at = f"lines[{index}]"
    kind = str(data.get("kind") or "")
    if kind not in LineKind.values:
        raise ValidationFailed.field(f"{at}.kind", f"must be one of {', '.join(LineKind.values)}")
    service: Service | None = None
    service_id = data.get("service")
    currency = consultation.appointment.currency
    if service_id:
        service = Service.objects.for_org(org).filter(pk=_uuid(f"{at}.service", service_id)).first()
        if service is None:
            raise ValidationFailed.field(f"{at}.service", "no such service in the catalogue")
        price = price_at(org=org, service=service, branch=consultation.branch, day=day)
        if price.currency != currency:
            raise ValidationFailed.field(
                f"{at}.service", f"priced in {price.currency}, the quote is in {currency}"
            )
        unit = price.amount
    elif kind in (LineKind.PROCEDURE, LineKind.FOLLOW_UP):
        raise ValidationFailed.field(f"{at}.service", "a procedure or visit names a catalogue service")
    else:
        unit = _decimal(f"{at}.unit_price", data.get("unit_price"))
    description = str(data.get("description") or "").strip()[:300]
    if service is None and not description:
        raise ValidationFailed.field(f"{at}.description", "required for a line without a catalogue service")
    quantity = _decimal(f"{at}.quantity", data.get("quantity"), default=Decimal(1))
    if quantity <= 0 or quantity != quantity.quantize(Decimal("0.01")):
        raise ValidationFailed.field(f"{at}.quantity", "must be positive, at most 2 decimals")
    if kind == LineKind.PROCEDURE and quantity != quantity.to_integral_value():
        raise ValidationFailed.field(f"{at}.quantity", "procedures are counted in whole sessions")
    if unit < 0:
        raise ValidationFailed.field(f"{at}.unit_price", "must not be negative")
    gross = quantize(unit * quantity, currency)
    discount_kind, value, reason, off = _discount(at, data, gross, currency)
    return QuoteLine(
        organization=org,
        position=index + 1,
        kind=kind,
        service=service,
        description=description,
        unit_price=unit,
        quantity=quantity,
        unit=str(data.get("unit") or "").strip()[:20],
        discount_kind=discount_kind,
        discount_value=value,
        discount_reason=reason,
        total=gross - off,
    )


def _uuid(name: str, value: object) -> str:
    pk = parse_uuid(value)
    if pk is None:
        raise ValidationFailed.field(name, "not an id")
    return str(pk)


@transaction.atomic
def quote_create(
    *,
    org: Organization,
    actor: User | None,
    consultation: Consultation,
    lines: Sequence[Mapping[str, Any]],
    valid_until: dt.date | None = None,
    note: str = "",
    request: HttpRequest | None = None,
) -> Quote:
    """A draft quote from the consultation: each line priced from the catalogue on today's date at the
    consultation's branch; the total in the branch's currency (a line in another currency is refused)."""
    if consultation.organization_id != org.pk:
        raise ValidationFailed.field("consultation", "belongs to another organisation")
    if not lines:
        raise ValidationFailed.field("lines", "a quote has at least one line")
    if len(lines) > MAX_LINES:
        raise ValidationFailed.field("lines", f"at most {MAX_LINES} lines")
    today = timezone.now().astimezone(consultation.branch.tz).date()
    valid_until = valid_until or today + dt.timedelta(days=VALID_DAYS)
    if valid_until < today:
        raise ValidationFailed.field("valid_until", "must not be in the past")
    built = [
        _line(org=org, consultation=consultation, day=today, index=i, data=data)
        for i, data in enumerate(lines)
    ]
    currency = consultation.appointment.currency
    total = money_sum((Money(line.total, currency) for line in built), currency)
    quote = Quote.objects.create(
        organization=org,
        consultation=consultation,
        patient_id=consultation.patient_id,
        doctor_id=consultation.doctor_id,
        branch_id=consultation.branch_id,
        priced_on=today,
        valid_until=valid_until,
        currency=currency,
        total=total.amount,
        note=note.strip()[:2000],
        created_by=actor,
    )
    for line in built:
        line.quote = quote
    QuoteLine.objects.bulk_create(built)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="quote",
        object_id=quote.pk,
        request=request,
    )
    return quote


def _lock_open(org: Organization, quote: Quote) -> Quote:
    locked: Quote = (
        Quote.objects.for_org(org)
        .select_for_update()
        .select_related("patient", "doctor", "branch", "consultation")
        .get(pk=quote.pk)
    )
    today = timezone.now().astimezone(locked.branch.tz).date()
    if locked.status in OPEN and locked.valid_until < today:
        locked.status = QuoteStatus.EXPIRED
        locked.save(update_fields=["status"])
    if locked.status not in OPEN:
        raise Conflict(f"the quote is {locked.status}", code="quote_closed")
    return locked


@transaction.atomic
def quote_send(
    *, org: Organization, actor: User | None, quote: Quote, request: HttpRequest | None = None
) -> Quote:
    """E-mail the quote to the patient (PDF attached, the patient's language) through the outbox."""
    quote = _lock_open(org, quote)
    patient = quote.patient
    language = language_for(patient.preferred_language)
    pdf = quote_pdf(
        org=org, quote=quote, lines=selectors.quote_lines(org=org, quote=quote), language=language
    )
    with translation.override(language):
        context = {
            "doctor": quote.doctor.full_name,
            "total": fmt_money(quote.total, quote.currency),
            "valid_until": fmt_date_full(quote.valid_until),
            "quote_id": str(quote.pk),
        }
    message = message_enqueue(
        org=org,
        patient=patient,
        channel=Channel.EMAIL,
        kind="quote",
        context=context,
        dedupe_key=f"quote:{quote.pk}:{timezone.now().isoformat()}",
        attachments=[("quote.pdf", "application/pdf", pdf)],
    )
    if message is None:
        raise ValidationFailed.field("email", "the patient has no e-mail address")
    _set_status(org, actor, quote, QuoteStatus.SENT, "sent_at", request)
    return quote


@transaction.atomic
def quote_accept(
    *, org: Organization, actor: User | None, quote: Quote, request: HttpRequest | None = None
) -> list[QuoteLine]:
    """Accept the quote and book each procedure line with the consultation's doctor at the next free
    slot (one after another), all or nothing. Conflict naming the line when no slot is free within
    SLOT_SEARCH_DAYS days. Returns the procedure lines with their appointments."""
    quote = _lock_open(org, quote)
    branch, doctor = quote.branch, quote.doctor
    lines = [line for line in selectors.quote_lines(org=org, quote=quote) if line.kind == LineKind.PROCEDURE]
    not_before = timezone.now()
    booked: list[QuoteLine] = []
    for line in lines:
        service = line.service
        assert service is not None  # a procedure line always names its service
        for _ in range(int(line.quantity)):
            day = not_before.astimezone(branch.tz).date()
            found = slots_find(
                org=org,
                branch=branch,
                service=service,
                doctor=doctor,
                date_from=day,
                date_to=day + dt.timedelta(days=SLOT_SEARCH_DAYS),
                limit=1,
                not_before=not_before,
            )
            if not found:
                raise Conflict(
                    f"line {line.position} ({service.name}): no free slot of {doctor.full_name} "
                    f"within {SLOT_SEARCH_DAYS} days",
                    code="no_free_slot",
                )
            appt = appointment_book(
                org=org,
                actor=actor,
                branch=branch,
                patient=quote.patient,
                service=service,
                doctor=doctor,
                start=found[0].start,
                request=request,
            )
            not_before = appt.busy_until
            if line.appointment_id is None:
                line.appointment = appt
        line.save(update_fields=["appointment"])
        booked.append(line)
    _set_status(org, actor, quote, QuoteStatus.ACCEPTED, "decided_at", request)
    consultation = quote.consultation
    consultation.outcome, consultation.updated_at = "booked", timezone.now()
    consultation.save(update_fields=["outcome", "updated_at"])
    return booked


@transaction.atomic
def quote_decline(
    *, org: Organization, actor: User | None, quote: Quote, request: HttpRequest | None = None
) -> Quote:
    quote = _lock_open(org, quote)
    _set_status(org, actor, quote, QuoteStatus.DECLINED, "decided_at", request)
    return quote


def _set_status(
    org: Organization, actor: User | None, quote: Quote, status: str, stamp: str, request: HttpRequest | None
) -> None:
    """The quote's new status with its moment (``sent_at`` or ``decided_at``), audited."""
    quote.status = status
    setattr(quote, stamp, timezone.now())
    quote.save(update_fields=["status", stamp])
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="quote",
        object_id=quote.pk,
        fields=["status"],
        request=request,
    )
