"""Reads of payments."""

from __future__ import annotations

from clinicflow.booking.models import Appointment, Payment
from clinicflow.core.models import Organization


def payment_list(*, org: Organization, appointment: Appointment) -> list[Payment]:
    """The appointment's payments and refunds, oldest first."""
    return list(Payment.objects.for_org(org).filter(appointment=appointment).order_by("paid_at"))
