"""Writes of payments: money received or refunded, as ``Money`` (amount and currency together)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking.models import Appointment, Payment, PaymentKind, PaymentMethod
from clinicflow.booking.services.checks import actor_or_none, aware_utc, clean_text, same_org
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.money import MINOR_UNITS, Money, MoneyError
from clinicflow.patients.models import Patient


def payment_amount(amount: object, currency: str | None, *, branch: Branch) -> Money:
    """An amount a person typed (a string, an int or a Decimal; never a float) in ``currency`` (the
    branch's by default), rounded to the currency's minor unit; a 422 naming the bad field."""
    code = (currency or branch.currency).upper()
    if code not in MINOR_UNITS:
        raise ValidationFailed.field("currency", f"must be one of {', '.join(sorted(MINOR_UNITS))}")
    try:
        return Money.of(amount, code)
    except MoneyError as exc:
        raise ValidationFailed.field("amount", str(exc)) from exc


@transaction.atomic
def payment_record(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    branch: Branch,
    amount: Money,
    method: str,
    appointment: Appointment | None = None,
    kind: str = PaymentKind.PAYMENT,
    paid_at: dt.datetime | None = None,
    note: str = "",
) -> Payment:
    """Record money received (``kind=payment``) or paid back (``kind=refund``); the amount is positive."""
    same_org(org, patient=patient, branch=branch, appointment=appointment)
    if appointment is not None and appointment.patient_id != patient.pk:
        raise ValidationFailed.field("appointment", "belongs to another patient")
    if method not in PaymentMethod.values:
        raise ValidationFailed.field("method", f"must be one of {', '.join(PaymentMethod.values)}")
    if kind not in PaymentKind.values:
        raise ValidationFailed.field("kind", f"must be one of {', '.join(PaymentKind.values)}")
    if amount.amount <= 0:
        raise ValidationFailed.field("amount", "must be positive (record a refund with kind=refund)")
    now = timezone.now()
    payment: Payment = Payment.objects.create(
        organization=org,
        appointment=appointment,
        patient=patient,
        branch=branch,
        amount=amount.amount,
        currency=amount.currency,
        method=method,
        kind=kind,
        paid_at=aware_utc(paid_at, "paid_at") if paid_at is not None else now,
        recorded_by=actor_or_none(actor),
        note=clean_text(note, "note", 300, required=False),
        created_at=now,
    )
    audit_record(org=org, actor=actor, action=AuditAction.CREATE, object_type="payment", object_id=payment.pk)
    return payment
