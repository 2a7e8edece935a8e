"""The doctor's home: my day (my appointments today, each on its branch's clock) and my patients' open
follow-ups — the courses they started with me whose next session is due, booked or not yet booked.

A doctor is the booking ``Doctor`` whose staff account (``Doctor.user``) is the signed-in user."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max
from django.urls import reverse
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.analytics.home.common import (
    CAME,
    EXPECTED,
    ROW_LIMIT,
    ApptRow,
    appointments,
    appt_row,
    today_q,
)
from clinicflow.booking.models import Appointment, AppointmentStatus, Doctor
from clinicflow.booking.selectors import doctor_branch_ids, doctor_for_user
from clinicflow.care.selectors.followups import TaskFilter, task_counts
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import branch_list
from clinicflow.patients.selectors import patients_named

COURSE_WINDOW = dt.timedelta(days=365)  # sessions counted towards a course: the last year's
FOLLOW_UP_LIMIT = 50

Pair = tuple[uuid.UUID, uuid.UUID]  # (patient, service)


@dataclass(frozen=True)
class FollowUpRow:
    """A course a patient of mine has not finished: sessions done, when the next one is due, and the
    next session's appointment if it is booked."""

    patient_id: uuid.UUID
    patient: str
    service: str
    done: int
    sessions: int
    last_visit: dt.date
    due: dt.date
    overdue: bool
    next_id: uuid.UUID | None
    next_start: dt.datetime | None

    @property
    def patient_url(self) -> str:
        return reverse("patients:detail", args=[self.patient_id])

    @property
    def next_url(self) -> str:
        return reverse("booking:appointment", args=[self.next_id]) if self.next_id else ""

    def as_json(self) -> dict[str, Any]:
        return {
            "patient": {"id": str(self.patient_id), "name": self.patient},
            "service": self.service,
            "sessions_done": self.done,
            "sessions": self.sessions,
            "last_visit": self.last_visit.isoformat(),
            "due": self.due.isoformat(),
            "overdue": self.overdue,
            "booked": str(self.next_id) if self.next_id else None,
            "booked_start": self.next_start.isoformat() if self.next_start else None,
        }


@dataclass
class DoctorHome:
    doctor_id: uuid.UUID | None
    doctor: str
    day: list[ApptRow]
    follow_ups: list[FollowUpRow]
    # the doctor's aftercare tasks (clinicflow.care): today / overdue / upcoming / done
    tasks: dict[str, int] = field(default_factory=dict)

    @property
    def linked(self) -> bool:
        return self.doctor_id is not None

    @property
    def came(self) -> int:
        return sum(1 for r in self.day if r.status in CAME)

    @property
    def expected(self) -> int:
        return sum(1 for r in self.day if r.status in EXPECTED)

    def as_json(self) -> dict[str, Any]:
        return {
            "doctor": {"id": str(self.doctor_id), "name": self.doctor} if self.doctor_id else None,
            "my_day": [r.as_json() for r in self.day],
            "follow_ups": [f.as_json() for f in self.follow_ups],
            "feedback_tasks": dict(self.tasks),
        }


def my_day(*, org: Organization, doctor: Doctor, branches: list[Branch], now: dt.datetime) -> list[ApptRow]:
    """The doctor's appointments today (each branch's today on its own clock), cancelled ones left out."""
    qs = (
        appointments(org)
        .filter(today_q(branches, now), doctor=doctor)
        .exclude(status=AppointmentStatus.CANCELLED)
    )
    return [appt_row(a) for a in qs.order_by("start_at", "id")[:ROW_LIMIT]]


def _next_booked(org: Organization, pairs: set[Pair], now: dt.datetime) -> dict[Pair, Appointment]:
    """The earliest upcoming booked or confirmed appointment of each (patient, service) pair."""
    qs = Appointment.objects.for_org(org).filter(
        patient_id__in={p for p, _s in pairs},
        service_id__in={s for _p, s in pairs},
        status__in=EXPECTED,
        start_at__gte=now,
    )
    out: dict[Pair, Appointment] = {}
    for a in qs.only("id", "patient_id", "service_id", "start_at").order_by("start_at", "id"):
        key = (a.patient_id, a.service_id)
        if key in pairs and key not in out:
            out[key] = a
    return out


def follow_ups(*, org: Organization, doctor: Doctor, now: dt.datetime, tz: dt.tzinfo) -> list[FollowUpRow]:
    """Courses (services of several sessions) my patients had a session of with me in the last year and
    have not finished: due ``course_interval_days`` after the last session (by any doctor). Unbooked ones
    first, by due date; then the booked ones by their date."""
    since, today = now - COURSE_WINDOW, timezone.localtime(now, tz).date()
    came = Appointment.objects.for_org(org).filter(status__in=CAME, start_at__gte=since, start_at__lt=now)
    mine = came.filter(doctor=doctor, service__course_sessions__gt=1)
    pairs: set[Pair] = {
        (p, s) for p, s in mine.order_by().values_list("patient_id", "service_id").distinct()[: ROW_LIMIT * 5]
    }
    if not pairs:
        return []
    sessions = (
        came.filter(patient_id__in={p for p, _s in pairs}, service_id__in={s for _p, s in pairs})
        .values("patient_id", "service_id")
        .annotate(n=Count("id"), last=Max("start_at"))
    )
    services = {s.pk: s for s in Service.objects.for_org(org).filter(pk__in={s for _p, s in pairs})}
    open_courses: dict[Pair, tuple[int, dt.datetime]] = {}
    for r in sessions:
        key = (r["patient_id"], r["service_id"])
        if key in pairs and r["n"] < services[r["service_id"]].course_sessions:
            open_courses[key] = (r["n"], r["last"])
    booked = _next_booked(org, set(open_courses), now)
    names = {p.pk: p.full_name for p in patients_named(org=org, ids=list({p for p, _s in open_courses}))}
    rows = []
    for (patient_id, service_id), (n, last) in open_courses.items():
        service = services[service_id]
        last_day = timezone.localtime(last, tz).date()
        due = last_day + dt.timedelta(days=service.course_interval_days)
        nxt = booked.get((patient_id, service_id))
        rows.append(
            FollowUpRow(
                patient_id=patient_id,
                patient=names.get(patient_id, ""),
                service=service.display_name,
                done=n,
                sessions=service.course_sessions,
                last_visit=last_day,
                due=due,
                overdue=nxt is None and due < today,
                next_id=nxt.pk if nxt else None,
                next_start=timezone.localtime(nxt.start_at, tz) if nxt else None,
            )
        )
    rows.sort(key=lambda r: (r.next_id is not None, r.next_start or now, r.due, r.patient))
    return rows[:FOLLOW_UP_LIMIT]


def doctor_home(*, org: Organization, user: User, now: dt.datetime) -> DoctorHome:
    doctor = doctor_for_user(org=org, user=user)
    if doctor is None:
        return DoctorHome(doctor_id=None, doctor="", day=[], follow_ups=[])
    branch_ids = doctor_branch_ids(org=org, doctor=doctor, limit=1)
    branches = branch_list(org=org, active_only=False)
    zones = {b.pk: b.tz for b in branches}
    tz = zones.get(branch_ids[0], dt.UTC) if branch_ids else dt.UTC  # the doctor's (first) branch's clock
    return DoctorHome(
        doctor_id=doctor.pk,
        doctor=doctor.full_name,
        day=my_day(org=org, doctor=doctor, branches=branches, now=now),
        follow_ups=follow_ups(org=org, doctor=doctor, now=now, tz=tz),
        tasks=task_counts(org=org, f=TaskFilter(view="today", user=user), now=now),
    )
