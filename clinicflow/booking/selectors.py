"""Reads of booking data. Every function takes the organisation first."""

from __future__ import annotations

import datetime as dt
import heapq
import uuid
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from clinicflow.booking import availability as av
from clinicflow.booking.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentStatus,
    BookingSettings,
    Doctor,
    DoctorBranch,
    DoctorService,
    ExceptionKind,
    Room,
    ScheduleBreak,
    ScheduleException,
    WaitlistEntry,
    WaitlistStatus,
    WorkingHours,
)
from clinicflow.catalogue.models import Service
from clinicflow.core import rawsql
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import parse_uuid

# Appointments longer than this are not expected; period queries look back this far for overlaps.
MAX_APPOINTMENT = dt.timedelta(hours=24)


def _get(qs: QuerySet, value: object, what: str):  # type: ignore[no-untyped-def,type-arg]
    pk = parse_uuid(value)
    obj = qs.filter(pk=pk).first() if pk else None
    if obj is None:
        raise NotFound(f"{what} not found")
    return obj


def service_get(*, org: Organization, service_id: object) -> Service:
    return _get(Service.objects.for_org(org), service_id, "service")  # type: ignore[no-any-return]


def service_list(
    *, org: Organization, online_only: bool = False, branch: Branch | None = None
) -> list[Service]:
    qs = Service.objects.for_org(org).filter(is_active=True)
    if online_only:
        qs = qs.filter(is_bookable_online=True)
    if branch is not None:
        performed = DoctorService.objects.for_org(org).filter(
            doctor__is_active=True,
            doctor_id__in=DoctorBranch.objects.for_org(org).filter(branch=branch).values("doctor_id"),
        )
        qs = qs.filter(pk__in=performed.values("service_id"))
    return list(qs.order_by("category", "name"))


def doctor_get(*, org: Organization, doctor_id: object) -> Doctor:
    return _get(Doctor.objects.for_org(org).select_related("user"), doctor_id, "doctor")  # type: ignore[no-any-return]


def doctor_for_user(*, org: Organization, user: object) -> Doctor | None:
    return Doctor.objects.for_org(org).filter(user=user, is_active=True).first()


def doctor_list(
    *,
    org: Organization,
    branch: Branch | None = None,
    service: Service | None = None,
    active_only: bool = True,
) -> list[Doctor]:
    qs = Doctor.objects.for_org(org)
    if active_only:
        qs = qs.filter(is_active=True)
    if branch is not None:
        qs = qs.filter(pk__in=DoctorBranch.objects.for_org(org).filter(branch=branch).values("doctor_id"))
    if service is not None:
        qs = qs.filter(pk__in=DoctorService.objects.for_org(org).filter(service=service).values("doctor_id"))
    return list(qs.order_by("full_name", "id"))


def doctor_links(*, org: Organization, doctors: Iterable[Doctor]) -> tuple[dict, dict]:  # type: ignore[type-arg]
    """(doctor id -> branch ids, doctor id -> service ids) in two queries."""
    ids = [d.pk for d in doctors]
    branches: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    services: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for d_id, b_id in (
        DoctorBranch.objects.for_org(org).filter(doctor_id__in=ids).values_list("doctor_id", "branch_id")
    ):
        branches[d_id].append(b_id)
    for d_id, s_id in (
        DoctorService.objects.for_org(org).filter(doctor_id__in=ids).values_list("doctor_id", "service_id")
    ):
        services[d_id].append(s_id)
    return branches, services


def room_get(*, org: Organization, room_id: object) -> Room:
    return _get(Room.objects.for_org(org).select_related("branch"), room_id, "room")  # type: ignore[no-any-return]


def room_list(*, org: Organization, branch: Branch | None = None, room_type: str = "") -> list[Room]:
    qs = Room.objects.for_org(org).filter(is_active=True)
    if branch is not None:
        qs = qs.filter(branch=branch)
    if room_type:
        qs = qs.filter(room_type=room_type)
    return list(qs.order_by("name", "id"))


def settings_for(*, org: Organization, branch: Branch) -> BookingSettings:
    """The branch's booking settings (an unsaved row with the defaults when none is stored)."""
    row = BookingSettings.objects.for_org(org).filter(branch=branch).first()
    return row or BookingSettings(organization=org, branch=branch)


def appointment_get(*, org: Organization, appointment_id: object) -> Appointment:
    return _get(  # type: ignore[no-any-return]
        Appointment.objects.for_org(org).select_related("branch", "patient", "service", "doctor", "room"),
        appointment_id,
        "appointment",
    )


@dataclass(frozen=True)
class AppointmentFilters:
    branch: Branch | None = None
    doctor: Doctor | None = None
    room: Room | None = None
    patient_id: uuid.UUID | None = None
    status: str = ""
    start_from: dt.datetime | None = None
    start_to: dt.datetime | None = None


def appointment_list(
    *, org: Organization, filters: AppointmentFilters | None = None
) -> QuerySet[Appointment]:
    f = filters or AppointmentFilters()
    qs = Appointment.objects.for_org(org).select_related("branch", "patient", "service", "doctor", "room")
    if f.branch is not None:
        qs = qs.filter(branch=f.branch)
    if f.doctor is not None:
        qs = qs.filter(doctor=f.doctor)
    if f.room is not None:
        qs = qs.filter(room=f.room)
    if f.patient_id is not None:
        qs = qs.filter(patient_id=f.patient_id)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.start_from is not None:
        qs = qs.filter(start_at__gte=f.start_from)
    if f.start_to is not None:
        qs = qs.filter(start_at__lt=f.start_to)
    return qs.order_by("start_at", "id")


def waitlist_list(
    *, org: Organization, branch: Branch | None = None, open_only: bool = True
) -> QuerySet[WaitlistEntry]:
    qs = WaitlistEntry.objects.for_org(org).select_related(
        "patient", "service", "doctor", "offered_doctor", "branch"
    )
    if branch is not None:
        qs = qs.filter(branch=branch)
    if open_only:
        qs = qs.filter(status__in=[WaitlistStatus.WAITING, WaitlistStatus.OFFERED])
    return qs.order_by("created_at", "id")


# --- schedules and availability ------------------------------------------------------------------


def schedules_load(
    *,
    org: Organization,
    branch: Branch,
    doctor_ids: Iterable[uuid.UUID],
    date_from: dt.date,
    date_to: dt.date,
) -> dict[uuid.UUID, av.Schedule]:
    """Each doctor's week at the branch plus exceptions in the period, for all doctors in one query
    (hours, breaks and exceptions as one UNION ALL in plain SQL: it runs on every slot search and
    booking, and the ORM took 2.5 ms to build it)."""
    ids = list(doctor_ids)
    tz = branch.tz
    out = {d: av.Schedule(tz=tz) for d in ids}
    if not ids:
        return out
    scope = f"organization_id = %s AND branch_id = %s AND doctor_id IN ({rawsql.placeholders(len(ids))})"
    keys = [rawsql.db_uuid(org.pk), rawsql.db_uuid(branch.pk), *(rawsql.db_uuid(d) for d in ids)]
    sql = (
        "SELECT 'e', doctor_id, NULL, date, kind, start_time, end_time, reason "  # noqa: S608 - table names from model meta, values bound
        f"FROM {ScheduleException._meta.db_table} WHERE {scope} AND date >= %s AND date <= %s "
        "UNION ALL SELECT 'h', doctor_id, weekday, NULL, NULL, start_time, end_time, NULL "
        f"FROM {WorkingHours._meta.db_table} WHERE {scope} "
        "UNION ALL SELECT 'b', doctor_id, weekday, NULL, NULL, start_time, end_time, NULL "
        f"FROM {ScheduleBreak._meta.db_table} WHERE {scope}"
    )
    params = [*keys, rawsql.db_date(date_from), rawsql.db_date(date_to), *keys, *keys]
    for part, d, wd, day, kind, t0, t1, reason in rawsql.fetch(sql, params):
        d_id = rawsql.py_uuid(d)
        assert d_id is not None
        start, end = rawsql.py_time(t0), rawsql.py_time(t1)
        if part == "h":
            out[d_id].hours.setdefault(wd, []).append((start, end))  # type: ignore[arg-type]
        elif part == "b":
            out[d_id].breaks.setdefault(wd, []).append((start, end))  # type: ignore[arg-type]
        else:
            span = (start, end) if start is not None and end is not None else None
            out[d_id].exceptions.setdefault(rawsql.py_date(day), []).append(  # type: ignore[arg-type]
                av.DateException(kind=kind, hours=span, reason=reason)
            )
    return out


def room_closures(
    *, org: Organization, branch: Branch, room_ids: Iterable[uuid.UUID], date_from: dt.date, date_to: dt.date
) -> dict[uuid.UUID, list[av.Interval]]:
    """Closed hours of each room in the period (plain SQL: every slot search and booking reads it)."""
    tz = branch.tz
    out: dict[uuid.UUID, list[av.Interval]] = defaultdict(list)
    ids = list(room_ids)
    if not ids:
        return {}
    sql = (
        f"SELECT room_id, date, start_time, end_time FROM {ScheduleException._meta.db_table} "  # noqa: S608 - table names from model meta, values bound
        f"WHERE organization_id = %s AND room_id IN ({rawsql.placeholders(len(ids))}) "
        "AND date >= %s AND date <= %s AND kind = %s"
    )
    params = [
        rawsql.db_uuid(org.pk),
        *(rawsql.db_uuid(r) for r in ids),
        rawsql.db_date(date_from),
        rawsql.db_date(date_to),
        ExceptionKind.CLOSED.value,
    ]
    for r, d, t0, t1 in rawsql.fetch(sql, params):
        r_id, day, start, end = rawsql.py_uuid(r), rawsql.py_date(d), rawsql.py_time(t0), rawsql.py_time(t1)
        assert r_id is not None and day is not None
        if start is not None and end is not None:
            out[r_id].append((av.local_dt(day, start, tz), av.local_dt(day, end, tz)))
        else:
            out[r_id].append(
                (av.local_dt(day, dt.time(0), tz), av.local_dt(day + dt.timedelta(days=1), dt.time(0), tz))
            )
    return {k: av.merge(v) for k, v in out.items()}


EPOCH0 = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _live_rows(
    *,
    org: Organization,
    doctor_ids: Sequence[uuid.UUID] = (),
    room_ids: Sequence[uuid.UUID] = (),
    start: dt.datetime,
    end: dt.datetime,
    exclude_id: uuid.UUID | None = None,
) -> list[tuple[uuid.UUID, uuid.UUID | None, dt.datetime, dt.datetime]]:
    """(doctor, room, start, busy_until) of live appointments of any of ``doctor_ids`` or ``room_ids``
    overlapping ``[start, end)``. Plain SQL (``core.rawsql``): it runs twice per booking and once per
    slot search."""
    who = []
    params: list[Any] = [rawsql.db_uuid(org.pk)]
    if doctor_ids:
        who.append(f"doctor_id IN ({rawsql.placeholders(len(doctor_ids))})")
        params += [rawsql.db_uuid(d) for d in doctor_ids]
    if room_ids:
        who.append(f"room_id IN ({rawsql.placeholders(len(room_ids))})")
        params += [rawsql.db_uuid(r) for r in room_ids]
    if not who:
        return []
    params += list(HOLDING_STATUSES)
    params += [
        rawsql.db_datetime(end),
        rawsql.db_datetime(start - MAX_APPOINTMENT),
        rawsql.db_datetime(start),
    ]
    sql = (
        f"SELECT doctor_id, room_id, {rawsql.epoch_sql('start_at')}, {rawsql.epoch_sql('busy_until')} "  # noqa: S608 - table names from model meta, values bound
        f"FROM {Appointment._meta.db_table} WHERE organization_id = %s AND ({' OR '.join(who)}) "
        f"AND status IN ({rawsql.placeholders(len(HOLDING_STATUSES))}) "
        "AND start_at < %s AND start_at >= %s AND busy_until > %s"
    )
    if exclude_id is not None:
        sql += " AND id <> %s"
        params.append(rawsql.db_uuid(exclude_id))
    sec = dt.timedelta(seconds=1)
    return [
        (rawsql.py_uuid(d), rawsql.py_uuid(r), EPOCH0 + a * sec, EPOCH0 + b * sec)  # type: ignore[misc]
        for d, r, a, b in rawsql.fetch(sql, params)
    ]


def taken_by_doctor_and_rooms(
    *,
    org: Organization,
    doctor_id: uuid.UUID | None,
    room_ids: Iterable[uuid.UUID],
    start: dt.datetime,
    end: dt.datetime,
    exclude_id: uuid.UUID | None = None,
) -> tuple[list[av.Interval], dict[uuid.UUID, list[av.Interval]]]:
    """The doctor's (none without ``doctor_id``) and each room's live ``[start_at, busy_until)``
    overlapping ``[start, end)``, in one query (a booking checks both)."""
    rooms = set(room_ids)
    rows = _live_rows(
        org=org,
        doctor_ids=[doctor_id] if doctor_id is not None else [],
        room_ids=list(rooms),
        start=start,
        end=end,
        exclude_id=exclude_id,
    )
    doctor: list[av.Interval] = []
    by_room: dict[uuid.UUID, list[av.Interval]] = defaultdict(list)
    for d_id, r_id, s0, s1 in rows:
        if doctor_id is not None and d_id == doctor_id:
            doctor.append((s0, s1))
        if r_id is not None and r_id in rooms:
            by_room[r_id].append((s0, s1))
    return av.merge(doctor), {k: av.merge(v) for k, v in by_room.items()}


def day_bounds(branch: Branch, date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = branch.tz
    return av.local_dt(date_from, dt.time(0), tz), av.local_dt(date_to + dt.timedelta(days=1), dt.time(0), tz)


@dataclass(frozen=True)
class Slot:
    start: dt.datetime
    end: dt.datetime
    doctor_id: uuid.UUID
    room_id: uuid.UUID | None
    doctor_name: str = ""


def slots_find(
    *,
    org: Organization,
    branch: Branch,
    service: Service,
    doctor: Doctor | None = None,
    date_from: dt.date,
    date_to: dt.date,
    limit: int | None = 100,
    not_before: dt.datetime | None = None,
    weekdays: Iterable[int] | None = None,
    time_from: dt.time | None = None,
    time_to: dt.time | None = None,
    step_minutes: int | None = None,
) -> list[Slot]:
    """Free slots of a service at a branch, chronological, each with a doctor and a free room.

    Loads the period's schedules and appointments once (7 queries whatever the period), then sweeps
    intervals in Python. ``weekdays`` (0 = Monday) and ``time_from``/``time_to`` (local start times)
    narrow the search ("Saturday morning")."""
    from django.utils import timezone

    now = timezone.now()
    not_before = max(not_before or now, now)
    settings = settings_for(org=org, branch=branch)
    step = dt.timedelta(minutes=step_minutes or settings.slot_step_minutes or 15)
    duration = dt.timedelta(minutes=service.duration_minutes)
    buffer = dt.timedelta(minutes=service.buffer_minutes)
    length = duration + buffer
    tz = branch.tz
    period_start, period_end = day_bounds(branch, date_from, date_to)

    found = Doctor.objects.for_org(org).filter(
        is_active=True,
        pk__in=DoctorService.objects.for_org(org).filter(service=service).values("doctor_id"),
    )
    found = found.filter(pk__in=DoctorBranch.objects.for_org(org).filter(branch=branch).values("doctor_id"))
    if doctor is not None:
        found = found.filter(pk=doctor.pk)
    names = dict(found.order_by("full_name", "id").values_list("pk", "full_name"))
    candidates = list(names)
    if not candidates:
        return []
    rooms = list(
        Room.objects.for_org(org)
        .filter(branch=branch, room_type=service.room_type, is_active=True)
        .order_by("name", "id")
        .values_list("pk", flat=True)
    )
    if not rooms:
        return []

    schedules = schedules_load(
        org=org, branch=branch, doctor_ids=candidates, date_from=date_from, date_to=date_to
    )
    doctor_set, room_set = set(candidates), set(rooms)
    by_doctor: dict[uuid.UUID, list[av.Interval]] = defaultdict(list)
    by_room: dict[uuid.UUID, list[av.Interval]] = defaultdict(list)
    for d_id, r_id, s0, s1 in _live_rows(
        org=org,
        doctor_ids=candidates,
        room_ids=rooms,
        start=period_start,
        end=period_end,
    ):
        if d_id in doctor_set:
            by_doctor[d_id].append((s0, s1))
        if r_id is not None and r_id in room_set:
            by_room[r_id].append((s0, s1))
    doctor_taken = {k: av.merge(v) for k, v in by_doctor.items()}
    closures = room_closures(org=org, branch=branch, room_ids=rooms, date_from=date_from, date_to=date_to)
    whole = [(period_start, period_end + length)]
    # Every room's free gaps in one list sorted by start, with a running maximum of the gap ends: a start
    # s fits some room iff the gap with the largest end among those starting at or before s reaches s+length.
    order = {r: i for i, r in enumerate(rooms)}
    gaps_all: list[tuple[dt.datetime, int, dt.datetime, uuid.UUID]] = []
    for r in rooms:
        for g0, g1 in av.subtract(av.subtract(whole, closures.get(r, [])), av.merge(by_room.get(r, []))):
            gaps_all.append((g0, order[r], g1, r))
    gaps_all.sort()
    gap_starts = [g[0] for g in gaps_all]
    best_end: list[dt.datetime] = []
    best_room: list[uuid.UUID] = []
    for _g0, _o, g1, r in gaps_all:
        if not best_end or g1 > best_end[-1]:
            best_end.append(g1)
            best_room.append(r)
        else:
            best_end.append(best_end[-1])
            best_room.append(best_room[-1])

    wanted_days = set(weekdays) if weekdays is not None else None
    filtered = wanted_days is not None or time_from is not None or time_to is not None

    def accept(s: dt.datetime) -> uuid.UUID | None:
        if filtered:
            local = s.astimezone(tz)
            if wanted_days is not None and local.weekday() not in wanted_days:
                return None
            if time_from is not None and local.time() < time_from:
                return None
            if time_to is not None and local.time() > time_to:
                return None
        i = bisect_right(gap_starts, s) - 1
        if i >= 0 and best_end[i] >= s + length:
            return best_room[i]
        return None

    # the day and time filters as time outside which no start is generated (``accept`` still checks
    # each start exactly): "after 14:00" skips the morning instead of generating and refusing it
    blocked: list[av.Interval] = []
    if filtered:
        allowed = []
        day = date_from
        while day <= date_to:
            if wanted_days is None or day.weekday() in wanted_days:
                a = av.local_dt(day, time_from or dt.time(0), tz)
                b = (
                    av.local_dt(day, time_to, tz)
                    if time_to is not None
                    else av.local_dt(day + dt.timedelta(days=1), dt.time(0), tz)
                )
                allowed.append((a, b + length))
            day += dt.timedelta(days=1)
        blocked = av.subtract(whole, av.merge(allowed))

    def per_doctor(d_id: uuid.UUID) -> Iterator[tuple[dt.datetime, str, uuid.UUID, uuid.UUID]]:
        windows = av.working_windows(schedules[d_id], date_from, date_to)
        gaps = av.free_gaps(windows, doctor_taken.get(d_id, []), buffer)
        if blocked:
            gaps = av.subtract(gaps, blocked)
        key = str(d_id)
        for gap in gaps:
            for s in av.aligned_starts(gap, length=length, step=step, tz=tz, not_before=not_before):
                r = accept(s)
                if r is not None:
                    yield s, key, d_id, r

    out: list[Slot] = []
    for s, _key, d_id, r in heapq.merge(*(per_doctor(d) for d in candidates)):
        out.append(Slot(start=s, end=s + duration, doctor_id=d_id, room_id=r, doctor_name=names[d_id]))
        if limit is not None and len(out) >= limit:
            break
    return out


def calendar_appointments(
    *,
    org: Organization,
    branch: Branch,
    start: dt.datetime,
    end: dt.datetime,
    include_cancelled: bool = False,
) -> list[Appointment]:
    qs = Appointment.objects.for_org(org).filter(
        branch=branch, start_at__lt=end, start_at__gte=start - MAX_APPOINTMENT
    )
    qs = qs.filter(Q(busy_until__gt=start))
    if not include_cancelled:
        qs = qs.exclude(status=AppointmentStatus.CANCELLED)
    return list(qs.select_related("patient", "service", "doctor", "room").order_by("start_at", "id"))
