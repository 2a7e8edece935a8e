"""What every role's home shares: the branches the user works in, a branch's "today" on its own clock,
and an appointment as a home row (times formatted in the branch's zone, links to the card and the visit)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import branch_list

# Statuses of a visit that took place (the patient came) and of one still expected.
CAME = (AppointmentStatus.ARRIVED, AppointmentStatus.DONE)
EXPECTED = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
ROW_LIMIT = 200  # rows per list on a home page (a busy branch's day fits)


def user_branches(*, org: Organization, user: User) -> list[Branch]:
    """The active branches a user works in: their own branch if they are tied to one, else all."""
    branches = branch_list(org=org)
    if user.branch_id is not None:
        return [b for b in branches if b.pk == user.branch_id]
    return branches


def local_day(branch: Branch, now: dt.datetime) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """Today on the branch's clock and its ``[start, end)`` as aware datetimes."""
    today = timezone.localtime(now, branch.tz).date()
    start = dt.datetime.combine(today, dt.time.min, tzinfo=branch.tz)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=branch.tz)
    return today, start, end


def today_q(branches: list[Branch], now: dt.datetime) -> Q:
    """Appointments starting today, each branch's today on its own clock (nothing when no branch)."""
    q = Q(pk__in=[])
    for b in branches:
        _today, start, end = local_day(b, now)
        q |= Q(branch=b, start_at__gte=start, start_at__lt=end)
    return q


@dataclass(frozen=True)
class ApptRow:
    """One appointment as a home page lists it, on its branch's clock."""

    id: uuid.UUID
    branch_id: uuid.UUID
    branch: str
    start: dt.datetime  # aware, in the branch's zone
    patient_id: uuid.UUID
    patient: str
    service: str
    doctor: str
    status: str
    status_label: str

    @property
    def time(self) -> str:
        return self.start.strftime("%H:%M")

    @property
    def day(self) -> dt.date:
        return self.start.date()

    @property
    def came(self) -> bool:
        return self.status in CAME

    @property
    def url(self) -> str:
        return reverse("booking:appointment", args=[self.id])

    @property
    def patient_url(self) -> str:
        return reverse("patients:detail", args=[self.patient_id])

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "branch": str(self.branch_id),
            "start": self.start.isoformat(),
            "patient": {"id": str(self.patient_id), "name": self.patient},
            "service": self.service,
            "doctor": self.doctor,
            "status": self.status,
            "came": self.came,
        }


def appt_row(a: Appointment) -> ApptRow:
    """``a`` with its branch, patient, service and doctor selected."""
    return ApptRow(
        id=a.pk,
        branch_id=a.branch_id,
        branch=a.branch.display_name,
        start=timezone.localtime(a.start_at, a.branch.tz),
        patient_id=a.patient_id,
        patient=a.patient.full_name,
        service=a.service.display_name,
        doctor=a.doctor.full_name,
        status=a.status,
        status_label=str(a.get_status_display()),
    )


def appointments(org: Organization) -> Any:
    """The organisation's appointments with what a home row names (patient names only, no contacts)."""
    return Appointment.objects.for_org(org).select_related("branch", "patient", "service", "doctor")
