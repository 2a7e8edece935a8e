"""Refunds a month later and payments in another currency added to a simulated clinic's first
payments: what the equality tests of the grouped SQL against the Python reference must get right."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from clinicflow.booking.models import Payment, PaymentKind
from clinicflow.core.models import Organization


def add_refunds_and_euros(org: Organization, *, first: int) -> None:
    """Of the first ``first`` payments for appointments: every third refunded by a third, 33 days
    later; every fifth (from the second) joined by a 10.05 EUR payment at the same moment."""
    pays = list(Payment.objects.for_org(org).exclude(appointment=None).order_by("paid_at")[:first])
    for p in pays[::3]:
        Payment.objects.create(
            organization=org,
            branch_id=p.branch_id,
            patient_id=p.patient_id,
            appointment_id=p.appointment_id,
            kind=PaymentKind.REFUND,
            amount=(p.amount / 3).quantize(Decimal("0.01")),
            currency=p.currency,
            method=p.method,
            paid_at=p.paid_at + dt.timedelta(days=33),
        )
    for p in pays[1::5]:
        Payment.objects.create(
            organization=org,
            branch_id=p.branch_id,
            patient_id=p.patient_id,
            kind=p.kind,
            amount=Decimal("10.05"),
            currency="EUR",
            method=p.method,
            paid_at=p.paid_at,
        )
