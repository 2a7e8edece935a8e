"""The planner's capacity of the last months: per doctor the available and booked minutes, per room
type the same (issue #18).

The capacity report's minutes without its day-and-hour split (the planner needs totals): a doctor's
available minutes are their working windows at each branch (weekly hours less breaks and
exceptions, ``booking.availability``), a room's while any doctor of its branch works and it is not
closed; booked minutes are the live appointments' minutes, summed in the database.

Read for every branch at once (the doctors' links, hours, breaks and exceptions, the rooms and their
closures: six statements, not four per branch), and counted per weekday: a doctor's windows of a
day are confined to that local day (a shift ends at midnight at the latest), so the period's
minutes are the sum of its days', and a day without an exception and without a change of the
clock's offset lasts as long as any other of its weekday. Only the days with an exception, a room
closure or a clock change are computed one by one; the result is the windows' own sum."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import DurationField, ExpressionWrapper, F, Sum

from clinicflow.booking import availability as av
from clinicflow.booking import selectors
from clinicflow.booking.models import (
    HOLDING_STATUSES,
    Appointment,
    Doctor,
    DoctorBranch,
    ExceptionKind,
    Room,
    ScheduleBreak,
    ScheduleException,
    WorkingHours,
)
from clinicflow.core.models import Branch, Organization

DAY = dt.timedelta(days=1)


@dataclass
class Capacity:
    """Minutes per month over the last months: per doctor (available, booked) and per room type."""

    doctors: dict[uuid.UUID, tuple[str, float, float]] = field(default_factory=dict)  # name, avail, booked
    room_types: dict[str, tuple[float, float]] = field(default_factory=dict)  # available, booked


def _seconds(windows: Iterable[av.Interval]) -> int:
    return int(sum((b - a).total_seconds() for a, b in windows))


def _dates(d0: dt.date, d1: dt.date) -> list[dt.date]:
    return [d0 + dt.timedelta(days=i) for i in range((d1 - d0).days + 1)]


def _clock_changes(branch: Branch, days: list[dt.date]) -> set[dt.date]:
    """The local days that do not last 24 hours (or start at a moved midnight)."""
    tz = branch.tz
    return {d for d in days if av.local_dt(d + DAY, dt.time(0), tz) - av.local_dt(d, dt.time(0), tz) != DAY}


def _open(schedules: list[av.Schedule], day: dt.date) -> list[av.Interval]:
    """The day's own windows of any of the schedules (their union)."""
    return av.merge(w for s in schedules for w in av.working_windows(s, day, day))


def available_seconds(
    schedules: list[av.Schedule],
    rooms: list[list[av.Interval]],
    days: list[dt.date],
    tz: dt.tzinfo,
    clock_changes: set[dt.date],
) -> tuple[list[int], list[int]]:
    """Per schedule the seconds of its working windows over ``days``; per room (its merged closures)
    the seconds when any of the schedules works and the room is not closed. Equal to
    ``working_windows`` over the whole period and ``subtract(merge(...), closures)``: a regular day
    of a weekday counts as that weekday's first regular day (of the branch: no schedule's exception
    then), the other days are computed one by one."""
    span = set(days)
    changed = span & clock_changes.union(*(s.exceptions for s in schedules))
    weekdays: dict[int, list[dt.date]] = defaultdict(list)
    for d in days:
        weekdays[d.weekday()].append(d)
    model = {wd: next((d for d in ds if d not in changed), None) for wd, ds in weekdays.items()}
    at_model = [{wd: av.working_windows(s, d, d) for wd, d in model.items() if d} for s in schedules]
    doctors = []
    for s, windows in zip(schedules, at_model, strict=True):
        own = span & clock_changes.union(s.exceptions)
        secs = sum(_seconds(av.working_windows(s, d, d)) for d in own)
        for wd, ds in weekdays.items():
            n = sum(1 for d in ds if d not in own)
            if n:  # the branch's model day, else the schedule's own first regular day of the weekday
                first = next(d for d in ds if d not in own)
                secs += n * _seconds(windows[wd] if wd in windows else av.working_windows(s, first, first))
        doctors.append(secs)
    total = sum(_seconds(_open(schedules, d)) for d in changed)
    for wd, ds in weekdays.items():
        if model[wd] is not None:
            opened = av.merge(w for windows in at_model for w in windows[wd])
            total += sum(1 for d in ds if d not in changed) * _seconds(opened)
    out = []
    for closures in rooms:
        touched: set[dt.date] = set()
        for a, b in closures:
            day, end = a.astimezone(tz).date(), (b - dt.timedelta(microseconds=1)).astimezone(tz).date()
            while day <= end:
                if day in span:
                    touched.add(day)
                day += DAY
        secs = total
        for d in sorted(touched):  # the day's own windows, less the closures
            day_open = _open(schedules, d)
            secs += _seconds(av.subtract(day_open, closures)) - _seconds(day_open)
        out.append(secs)
    return doctors, out


def _schedules(
    org: Organization, pairs: list[tuple[Branch, uuid.UUID]], d0: dt.date, d1: dt.date
) -> dict[tuple[uuid.UUID, uuid.UUID], av.Schedule]:
    """Each (branch, doctor)'s week and exceptions in the period (``selectors.schedules_load`` for
    every branch at once)."""
    out = {(b.pk, d): av.Schedule(tz=b.tz) for b, d in pairs}
    for model, target in ((WorkingHours, "hours"), (ScheduleBreak, "breaks")):
        rows = model.objects.for_org(org).values_list(
            "branch_id", "doctor_id", "weekday", "start_time", "end_time"
        )
        for b, d, wd, t0, t1 in rows.order_by():
            s = out.get((b, d))
            if s is not None:
                getattr(s, target).setdefault(wd, []).append((t0, t1))
    exceptions = (
        ScheduleException.objects.for_org(org)
        .filter(doctor__isnull=False, date__gte=d0, date__lte=d1)
        .order_by()
        .values_list("branch_id", "doctor_id", "date", "kind", "start_time", "end_time", "reason")
    )
    for b, d, day, kind, e0, e1, reason in exceptions:
        s = out.get((b, d))
        if s is not None:
            span = (e0, e1) if e0 is not None and e1 is not None else None
            s.exceptions.setdefault(day, []).append(av.DateException(kind=kind, hours=span, reason=reason))
    return out


def _closures(
    org: Organization,
    rooms: dict[uuid.UUID, Room],
    tz_of: dict[uuid.UUID, zoneinfo.ZoneInfo],
    d0: dt.date,
    d1: dt.date,
) -> dict[uuid.UUID, list[av.Interval]]:
    """Each room's closed hours in the period (``selectors.room_closures`` for every branch at once)."""
    found: dict[uuid.UUID, list[av.Interval]] = defaultdict(list)
    rows = (
        ScheduleException.objects.for_org(org)
        .filter(room__isnull=False, date__gte=d0, date__lte=d1, kind=ExceptionKind.CLOSED)
        .order_by()
        .values_list("room_id", "date", "start_time", "end_time")
    )
    for r, day, t0, t1 in rows:
        if r not in rooms:
            continue
        tz = tz_of[rooms[r].branch_id]
        if t0 is not None and t1 is not None:
            found[r].append((av.local_dt(day, t0, tz), av.local_dt(day, t1, tz)))
        else:
            found[r].append((av.local_dt(day, dt.time(0), tz), av.local_dt(day + DAY, dt.time(0), tz)))
    return {k: av.merge(v) for k, v in found.items()}


def capacity(org: Organization, branches: list[Branch], d0: dt.date, d1: dt.date, months: int) -> Capacity:
    """The doctors' and room types' minutes per month over local dates ``d0..d1`` (``months`` of them)."""
    out = Capacity()
    doctors: dict[uuid.UUID, list[float]] = defaultdict(lambda: [0.0, 0.0])
    types: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    linked: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for b, d in DoctorBranch.objects.for_org(org).order_by().values_list("branch_id", "doctor_id"):
        linked[b].add(d)
    names: dict[uuid.UUID, str] = {}
    ordered = list(Doctor.objects.for_org(org).order_by("full_name", "id").values_list("pk", "full_name"))
    all_rooms = {r.pk: r for r in Room.objects.for_org(org).filter(is_active=True).order_by("name", "id")}
    by_branch: dict[uuid.UUID, list[Room]] = defaultdict(list)
    for r in all_rooms.values():
        by_branch[r.branch_id].append(r)
    docs = {b.pk: [(pk, name) for pk, name in ordered if pk in linked[b.pk]] for b in branches}
    schedules = _schedules(org, [(b, pk) for b in branches for pk, _ in docs[b.pk]], d0, d1)
    closures = _closures(org, all_rooms, {b.pk: b.tz for b in branches}, d0, d1)
    days = _dates(d0, d1)
    for branch in branches:
        names.update(docs[branch.pk])
        rooms = by_branch.get(branch.pk, [])
        secs, room_secs = available_seconds(
            [schedules[(branch.pk, pk)] for pk, _ in docs[branch.pk]],
            [closures.get(r.pk, []) for r in rooms],
            days,
            branch.tz,
            _clock_changes(branch, days),
        )
        for (pk, _), s in zip(docs[branch.pk], secs, strict=True):
            doctors[pk][0] += s / 60
        for r, s in zip(rooms, room_secs, strict=True):
            types[str(r.room_type)][0] += s / 60
    start = min((selectors.day_bounds(b, d0, d1)[0] for b in branches), default=None)
    end = max((selectors.day_bounds(b, d0, d1)[1] for b in branches), default=None)
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
        rooms_type = {pk: str(r.room_type) for pk, r in all_rooms.items() if r.branch_id in docs}
        for pk, total in by_room.values_list("room_id", "t"):
            if pk in rooms_type and total:
                types[rooms_type[pk]][1] += total.total_seconds() / 60
    out.doctors = {k: (names.get(k, ""), v[0] / months, v[1] / months) for k, v in doctors.items()}
    out.room_types = {k: (v[0] / months, v[1] / months) for k, v in types.items() if k}
    return out
