"""The front desk's home: today's appointments per branch (on the branch's clock) with arrivals, the
callbacks due today or overdue, bookings still unconfirmed in the next two days, the waitlist's open
offers. Every read takes the organisation and stays in the branches the user works in."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.acquisition.models import CallbackTask
from clinicflow.analytics.home.common import (
    CAME,
    EXPECTED,
    ROW_LIMIT,
    ApptRow,
    appointments,
    appt_row,
    local_day,
    today_q,
    user_branches,
)
from clinicflow.booking.models import AppointmentStatus, WaitlistEntry, WaitlistStatus
from clinicflow.core.models import Branch, Organization
from clinicflow.core.phones import display

UNCONFIRMED_AHEAD = dt.timedelta(hours=48)


@dataclass
class BranchDay:
    """One branch's today: its appointments (cancelled ones left out) and how many came."""

    id: uuid.UUID
    name: str
    timezone: str
    today: dt.date
    local_now: str
    rows: list[ApptRow] = field(default_factory=list)

    @property
    def came(self) -> int:
        return sum(1 for r in self.rows if r.status in CAME)

    @property
    def expected(self) -> int:
        return sum(1 for r in self.rows if r.status in EXPECTED)

    @property
    def no_show(self) -> int:
        return sum(1 for r in self.rows if r.status == AppointmentStatus.NO_SHOW)

    def as_json(self) -> dict[str, Any]:
        return {
            "branch": {"id": str(self.id), "name": self.name, "timezone": self.timezone},
            "date": self.today.isoformat(),
            "appointments": len(self.rows),
            "came": self.came,
            "expected": self.expected,
            "no_show": self.no_show,
            "rows": [r.as_json() for r in self.rows],
        }


@dataclass(frozen=True)
class CallbackRow:
    id: uuid.UUID
    branch: str
    phone: str
    due: dt.datetime  # aware, in the branch's zone
    overdue: bool
    call_id: uuid.UUID
    patient_id: uuid.UUID | None
    patient: str

    @property
    def due_time(self) -> str:
        return self.due.strftime("%H:%M")

    @property
    def call_url(self) -> str:
        return reverse("acquisition:call_detail", args=[self.call_id])

    @property
    def patient_url(self) -> str:
        return reverse("patients:detail", args=[self.patient_id]) if self.patient_id else ""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "branch": self.branch,
            "phone": self.phone,
            "due": self.due.isoformat(),
            "overdue": self.overdue,
            "call": str(self.call_id),
            "patient": {"id": str(self.patient_id), "name": self.patient} if self.patient_id else None,
        }


@dataclass(frozen=True)
class OfferRow:
    id: uuid.UUID
    branch: str
    patient_id: uuid.UUID
    patient: str
    service: str
    doctor: str
    start: dt.datetime | None  # the offered slot, in the branch's zone
    offered_at: dt.datetime | None

    @property
    def start_time(self) -> str:
        return self.start.strftime("%H:%M") if self.start else ""

    @property
    def patient_url(self) -> str:
        return reverse("patients:detail", args=[self.patient_id])

    def as_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "branch": self.branch,
            "patient": {"id": str(self.patient_id), "name": self.patient},
            "service": self.service,
            "doctor": self.doctor,
            "start": self.start.isoformat() if self.start else None,
            "offered_at": self.offered_at.isoformat() if self.offered_at else None,
        }


@dataclass
class FrontDeskHome:
    branches: list[BranchDay]
    callbacks: list[CallbackRow]
    unconfirmed: list[ApptRow]
    offers: list[OfferRow]
    waiting: int

    @property
    def overdue(self) -> int:
        return sum(1 for c in self.callbacks if c.overdue)

    @property
    def waitlist_url(self) -> str:
        return reverse("booking:waitlist")

    def as_json(self) -> dict[str, Any]:
        return {
            "today": [b.as_json() for b in self.branches],
            "callbacks": [c.as_json() for c in self.callbacks],
            "callbacks_overdue": self.overdue,
            "unconfirmed": [r.as_json() for r in self.unconfirmed],
            "waitlist_offers": [o.as_json() for o in self.offers],
            "waitlist_waiting": self.waiting,
        }


def branch_days(*, org: Organization, branches: list[Branch], now: dt.datetime) -> list[BranchDay]:
    """Each branch's appointments today on its own clock, cancelled ones left out, by start."""
    days: dict[uuid.UUID, BranchDay] = {}
    for b in branches:
        today, _start, _end = local_day(b, now)
        local_now = timezone.localtime(now, b.tz).strftime("%H:%M")
        days[b.pk] = BranchDay(
            id=b.pk, name=b.display_name, timezone=b.timezone, today=today, local_now=local_now
        )
    qs = appointments(org).filter(today_q(branches, now)).exclude(status=AppointmentStatus.CANCELLED)
    for a in qs.order_by("start_at", "id")[: ROW_LIMIT * max(1, len(branches))]:
        days[a.branch_id].rows.append(appt_row(a))
    return list(days.values())


def callbacks_due(
    *, org: Organization, branches: list[Branch], now: dt.datetime, all_branches: bool
) -> list[CallbackRow]:
    """Open callbacks due by the end of today on their branch's clock (overdue ones first: earliest
    deadline first). Callbacks of no branch are shown to users of every branch."""
    q = Q(pk__in=[])
    ends = []
    for b in branches:
        _today, _start, end = local_day(b, now)
        ends.append(end)
        q |= Q(branch=b, due_at__lt=end)
    if all_branches:
        q |= Q(branch__isnull=True, due_at__lt=max(ends, default=now + dt.timedelta(days=1)))
    zones = {b.pk: b.tz for b in branches}
    tasks = (
        CallbackTask.objects.for_org(org)
        .filter(q, done_at__isnull=True)
        .select_related("branch", "call", "call__patient")
        .order_by("due_at", "id")[:ROW_LIMIT]
    )
    rows = []
    for t in tasks:
        patient = t.call.patient
        rows.append(
            CallbackRow(
                id=t.pk,
                branch=t.branch.display_name if t.branch else "",
                phone=display(t.phone) if t.phone.startswith("+") else t.phone,
                due=timezone.localtime(t.due_at, zones.get(t.branch_id, dt.UTC) if t.branch_id else dt.UTC),
                overdue=t.due_at < now,
                call_id=t.call_id,
                patient_id=patient.pk if patient else None,
                patient=patient.full_name if patient else "",
            )
        )
    return rows


def unconfirmed(*, org: Organization, branches: list[Branch], now: dt.datetime) -> list[ApptRow]:
    """Bookings not yet confirmed that start in the next 48 hours, soonest first."""
    qs = appointments(org).filter(
        branch__in=branches,
        status=AppointmentStatus.BOOKED,
        start_at__gte=now,
        start_at__lt=now + UNCONFIRMED_AHEAD,
    )
    return [appt_row(a) for a in qs.order_by("start_at", "id")[:ROW_LIMIT]]


def waitlist_offers(*, org: Organization, branches: list[Branch]) -> tuple[list[OfferRow], int]:
    """Open offers of the waitlist (a slot offered, the patient not yet booked) and how many wait."""
    entries = WaitlistEntry.objects.for_org(org).filter(branch__in=branches)
    waiting = entries.filter(status=WaitlistStatus.WAITING).count()
    offered = (
        entries.filter(status=WaitlistStatus.OFFERED)
        .select_related("branch", "patient", "service", "offered_doctor")
        .order_by("offered_start", "id")[:ROW_LIMIT]
    )
    rows = [
        OfferRow(
            id=e.pk,
            branch=e.branch.display_name,
            patient_id=e.patient_id,
            patient=e.patient.full_name,
            service=e.service.display_name,
            doctor=e.offered_doctor.full_name if e.offered_doctor else "",
            start=timezone.localtime(e.offered_start, e.branch.tz) if e.offered_start else None,
            offered_at=e.offered_at,
        )
        for e in offered
    ]
    return rows, waiting


def frontdesk_home(*, org: Organization, user: User, now: dt.datetime) -> FrontDeskHome:
    branches = user_branches(org=org, user=user)
    offers, waiting = waitlist_offers(org=org, branches=branches)
    return FrontDeskHome(
        branches=branch_days(org=org, branches=branches, now=now),
        callbacks=callbacks_due(org=org, branches=branches, now=now, all_branches=user.branch_id is None),
        unconfirmed=unconfirmed(org=org, branches=branches, now=now),
        offers=offers,
        waiting=waiting,
    )
