"""What the what-if planner reads besides the calls panel: net revenue per month by the cohort of the
patients' first visit, the front desk per administrator, and the last months' load per doctor and
room type.

Net revenue is payments less refunds in the panel's currency, by the month of payment on the
branch's clock. A patient's cohort is the month of their first visit that happened (the panel's
definition); payments of patients without one in the history (older patients, prepayments) form
the ``older`` stream."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, DurationField, ExpressionWrapper, F, Sum

from clinicflow.acquisition.defaults import tracking_settings
from clinicflow.acquisition.models import Call, CallStatus
from clinicflow.analytics.pricing.grouped import cohorts
from clinicflow.analytics.pricing.panel import Panel, build_panel
from clinicflow.analytics.reports.acquisition.administrators import administrator_rows
from clinicflow.booking import availability as av
from clinicflow.booking import selectors
from clinicflow.booking.models import HOLDING_STATUSES, Appointment
from clinicflow.core.models import Organization


@dataclass
class Admin:
    """One administrator over the last months: unique calls taken, answered, booked, arrived."""

    id: uuid.UUID
    name: str
    unique_calls: int
    answered: int
    booked: int
    arrived: int

    @property
    def conversion(self) -> float:
        """The share of answered unique calls that booked (the simulator's ``conversion``)."""
        return self.booked / self.answered if self.answered else 0.0


@dataclass
class Capacity:
    """Minutes per month over the last months: per doctor (available, booked) and per room type."""

    doctors: dict[uuid.UUID, tuple[str, float, float]] = field(default_factory=dict)  # name, avail, booked
    room_types: dict[str, tuple[float, float]] = field(default_factory=dict)  # available, booked


@dataclass
class History:
    panel: Panel
    cohort_revenue: np.ndarray  # (cohort month, payment month) in major units
    cohort_size: np.ndarray  # first patients per month (all branches)
    older: np.ndarray  # revenue per month of patients without a first visit in the history
    admins: list[Admin]
    capacity: Capacity
    gross_margin: float

    @property
    def revenue(self) -> np.ndarray:
        out: np.ndarray = self.cohort_revenue.sum(axis=0) + self.older
        return out


def _month(d: dt.date | dt.datetime) -> dt.date:
    return dt.date(d.year, d.month, 1)


def build_history(
    *, org: Organization, date_from: dt.date, date_to: dt.date, recent_months: int = 3, extras: bool = True
) -> History:
    """``extras``: also the administrators and the capacity of the last ``recent_months``."""
    panel = build_panel(org=org, date_from=date_from, date_to=date_to)
    n = len(panel.months)
    index = {m: i for i, m in enumerate(panel.months)}
    tz = panel.branches[0].tz if panel.branches else dt.UTC
    start = dt.datetime.combine(panel.months[0] if n else date_from, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    size = np.zeros(n)
    rev = np.zeros((n, n))
    older = np.zeros(n)
    if n:
        # grouped by the database: first patients per cohort month, net revenue per (cohort, month)
        sizes, revenue = cohorts(org=org, start=start, end=end, tz=tz, currency=panel.currency)
        for m, k in sizes.items():
            i = index.get(m)
            if i is not None:
                size[i] += k
        for cm, m, net in revenue:
            j = index.get(m)
            if j is None:
                continue
            c = index.get(cm) if cm is not None else None
            if c is None or c > j:
                older[j] += float(net)
            else:
                rev[c, j] += float(net)
    recent_from = panel.months[-recent_months] if n >= recent_months else date_from
    return History(
        panel=panel,
        cohort_revenue=rev,
        cohort_size=size,
        older=older,
        admins=_admins(org, recent_from, date_to) if extras else [],
        capacity=_capacity(org, panel, recent_from, date_to, max(min(recent_months, n), 1))
        if extras
        else Capacity(),
        gross_margin=float(tracking_settings(org=org).gross_margin) if extras else 1.0,
    )


def _admins(org: Organization, d0: dt.date, d1: dt.date) -> list[Admin]:
    start = dt.datetime.combine(d0, dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(d1 + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    answered = dict(
        Call.objects.for_org(org)
        .filter(
            started_at__gte=start,
            started_at__lt=end,
            is_unique=True,
            administrator__isnull=False,
            status__in=(CallStatus.ANSWERED, CallStatus.COMPLETED),
        )
        .values("administrator_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("administrator_id", "n")
    )
    out = []
    for r in administrator_rows(org=org, date_from=d0, date_to=d1):
        aid = uuid.UUID(r["administrator_id"])
        out.append(
            Admin(
                id=aid,
                name=str(r["administrator"]),
                unique_calls=int(r["unique_calls"]),
                answered=int(answered.get(aid, 0)),
                booked=int(r["booked"]),
                arrived=int(r["arrived"]),
            )
        )
    return out


def _capacity(org: Organization, panel: Panel, d0: dt.date, d1: dt.date, months: int) -> Capacity:
    """The capacity report's minutes without its day-and-hour split (the planner needs totals): a
    doctor's available minutes are their working windows at each branch (weekly hours less breaks and
    exceptions), a room's while any doctor of its branch works and it is not closed; booked minutes
    are the live appointments' minutes, summed in the database (the simulator and the booking rules
    keep them inside the windows)."""
    out = Capacity()
    doctors: dict[uuid.UUID, list[float]] = defaultdict(lambda: [0.0, 0.0])
    types: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    rooms: dict[uuid.UUID, str] = {}
    names: dict[uuid.UUID, str] = {}
    for branch in panel.branches:
        docs = selectors.doctor_list(org=org, branch=branch, active_only=False)
        names.update((d.pk, d.full_name) for d in docs)
        schedules = selectors.schedules_load(
            org=org, branch=branch, doctor_ids=[d.pk for d in docs], date_from=d0, date_to=d1
        )
        windows = {d.pk: av.working_windows(schedules[d.pk], d0, d1) for d in docs}
        for pk, ws in windows.items():
            doctors[pk][0] += _span(ws)
        branch_rooms = selectors.room_list(org=org, branch=branch)
        rooms.update((r.pk, str(r.room_type)) for r in branch_rooms)
        open_hours = av.merge(w for ws in windows.values() for w in ws)
        closures = selectors.room_closures(
            org=org, branch=branch, room_ids=[r.pk for r in branch_rooms], date_from=d0, date_to=d1
        )
        for r in branch_rooms:
            types[str(r.room_type)][0] += _span(av.subtract(open_hours, closures.get(r.pk, [])))
    start = min((selectors.day_bounds(b, d0, d1)[0] for b in panel.branches), default=None)
    end = max((selectors.day_bounds(b, d0, d1)[1] for b in panel.branches), default=None)
    if start is not None and end is not None:
        live = (
            Appointment.objects.for_org(org)
            .filter(status__in=HOLDING_STATUSES, start_at__gte=start, start_at__lt=end)
            .annotate(length=ExpressionWrapper(F("end_at") - F("start_at"), output_field=DurationField()))
            .order_by()
        )
        for pk, total in live.values("doctor_id").annotate(t=Sum("length")).values_list("doctor_id", "t"):
            if pk in doctors:
                doctors[pk][1] += total.total_seconds() / 60 if total else 0.0
        by_room = live.filter(room__isnull=False).values("room_id").annotate(t=Sum("length"))
        for pk, total in by_room.values_list("room_id", "t"):
            if pk in rooms and total:
                types[rooms[pk]][1] += total.total_seconds() / 60
    out.doctors = {k: (names.get(k, ""), v[0] / months, v[1] / months) for k, v in doctors.items()}
    out.room_types = {k: (v[0] / months, v[1] / months) for k, v in types.items() if k}
    return out


def _span(windows: list[av.Interval]) -> float:
    return sum((b - a).total_seconds() for a, b in windows) / 60


def realised(*, org: Organization, date_from: dt.date, date_to: dt.date) -> list[dict[str, object]]:
    """The figures a forecast predicts, from the real data of whole months ``date_from``..``date_to``
    (the hypothesis log's measured effect; the honesty test's realised figures)."""
    h = build_history(org=org, date_from=date_from, date_to=date_to, extras=False)
    p = h.panel
    rows = []
    for i, m in enumerate(p.months):
        calls = sum(v for (_, _, mm), v in p.calls.items() if mm == m)
        rows.append(
            {
                "month": m.strftime("%Y-%m"),
                "unique_calls": calls,
                "first_visits": int(h.cohort_size[i]),
                "revenue": float(h.revenue[i]),
            }
        )
    return rows
