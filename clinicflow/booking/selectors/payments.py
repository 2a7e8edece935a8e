"""Reads of payments."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from clinicflow.booking.models import Appointment, Payment, PaymentKind
from clinicflow.core.models import Organization


def payment_list(*, org: Organization, appointment: Appointment) -> list[Payment]:
    """The appointment's payments and refunds, oldest first."""
    return list(Payment.objects.for_org(org).filter(appointment=appointment).order_by("paid_at"))


def payment_due(appointment: Appointment, payments: Sequence[Payment]) -> Decimal:
    """What is left to pay for the appointment: its price less its payments net of refunds (in its
    currency), never below zero."""
    paid = sum(
        (-p.amount if p.kind == PaymentKind.REFUND else p.amount)
        for p in payments
        if p.currency == appointment.currency
    )
    return max(Decimal(appointment.price or 0) - Decimal(paid), Decimal(0))
