"""What the periodic jobs work on: the organisations, and their done visits not yet handled."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet

from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.care.models import AftercareRun
from clinicflow.core.models import Organization

LOOKBACK = dt.timedelta(days=3)  # a visit marked done up to three days late still gets its tasks


@dataclass(frozen=True)
class Visit:
    """What task generation needs of a done visit (read as plain values: ``selectors.jobs``)."""

    id: uuid.UUID
    service_id: uuid.UUID
    patient_id: uuid.UUID
    branch_id: uuid.UUID
    doctor_id: uuid.UUID
    start_at: dt.datetime
    timezone: str
    doctor_user_id: uuid.UUID | None

    @classmethod
    def of(cls, appt: Appointment) -> Visit:
        return cls(
            appt.pk, appt.service_id, appt.patient_id, appt.branch_id, appt.doctor_id, appt.start_at,
            appt.branch.timezone, appt.doctor.user_id,
        )  # fmt: skip


def organizations() -> QuerySet[Organization]:
    return Organization.objects.order_by("id")


def done_unhandled(*, org: Organization, now: dt.datetime, limit: int = 20000) -> list[Visit]:
    """Done visits that started in the last ``LOOKBACK`` with no ``AftercareRun`` yet, oldest first, as
    plain values (no model instances: the job reads thousands)."""
    handled = AftercareRun.objects.for_org(org).filter(appointment_id=OuterRef("pk"))
    rows = (
        Appointment.objects.for_org(org)
        .filter(status=AppointmentStatus.DONE, start_at__gte=now - LOOKBACK, start_at__lte=now)
        .exclude(Exists(handled))
        .order_by("start_at", "id")
        .values_list(
            "id",
            "service_id",
            "patient_id",
            "branch_id",
            "doctor_id",
            "start_at",
            "branch__timezone",
            "doctor__user_id",
        )[:limit]
    )
    return [Visit(*row) for row in rows]


def thanks_due(*, org: Organization, now: dt.datetime, limit: int = 500) -> list[Appointment]:
    """Handled done visits whose thank-you is not queued yet and whose 48 hours are not over."""
    pending = AftercareRun.objects.for_org(org).filter(appointment_id=OuterRef("pk"), thanked=False)
    return list(
        Appointment.objects.for_org(org)
        .filter(status=AppointmentStatus.DONE, end_at__gte=now - dt.timedelta(hours=48), start_at__lte=now)
        .filter(Exists(pending))
        .select_related("branch", "doctor", "service", "patient", "organization")
        .order_by("start_at", "id")[:limit]
    )
