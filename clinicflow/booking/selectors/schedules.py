"""Reads of schedules: each doctor's week and exceptions, rooms' closures, the branch's settings.

``schedules_load`` and ``room_closures`` run on every slot search and booking: they are plain SQL
through ``clinicflow.core.rawsql`` (tenant-scoped like every query)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from clinicflow.booking import availability as av
from clinicflow.booking.models import (
    BookingSettings,
    Doctor,
    ExceptionKind,
    ScheduleBreak,
    ScheduleException,
    WorkingHours,
)
from clinicflow.booking.selectors.base import get_by_id
from clinicflow.core import rawsql
from clinicflow.core.models import Branch, Organization


def settings_for(*, org: Organization, branch: Branch) -> BookingSettings:
    """The branch's booking settings (an unsaved row with the defaults when none is stored)."""
    row: BookingSettings | None = BookingSettings.objects.for_org(org).filter(branch=branch).first()
    return row or BookingSettings(organization=org, branch=branch)


def day_bounds(branch: Branch, date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of the branch's midnight before ``date_from`` and after ``date_to``."""
    tz = branch.tz
    return av.local_dt(date_from, dt.time(0), tz), av.local_dt(date_to + dt.timedelta(days=1), dt.time(0), tz)


def _add_schedule_row(schedule: av.Schedule, row: tuple[Any, ...]) -> None:
    part, _d, wd, day, kind, t0, t1, reason = row
    start, end = rawsql.py_time(t0), rawsql.py_time(t1)
    if part == "e":
        span = (start, end) if start is not None and end is not None else None
        schedule.exceptions.setdefault(rawsql.py_date(day), []).append(  # type: ignore[arg-type]  # a date column is never NULL
            av.DateException(kind=kind, hours=span, reason=reason)
        )
        return
    target = schedule.hours if part == "h" else schedule.breaks
    target.setdefault(wd, []).append((start, end))  # type: ignore[arg-type]  # both columns are NOT NULL


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
        "SELECT 'e', doctor_id, NULL, date, kind, start_time, end_time, reason "  # nosec B608 # noqa: S608 - table names from model meta, values bound
        f"FROM {ScheduleException._meta.db_table} WHERE {scope} AND date >= %s AND date <= %s "
        "UNION ALL SELECT 'h', doctor_id, weekday, NULL, NULL, start_time, end_time, NULL "
        f"FROM {WorkingHours._meta.db_table} WHERE {scope} "
        "UNION ALL SELECT 'b', doctor_id, weekday, NULL, NULL, start_time, end_time, NULL "
        f"FROM {ScheduleBreak._meta.db_table} WHERE {scope}"
    )
    params = [*keys, rawsql.db_date(date_from), rawsql.db_date(date_to), *keys, *keys]
    for row in rawsql.fetch(sql, params):
        d_id = rawsql.py_uuid(row[1])
        assert d_id is not None
        _add_schedule_row(out[d_id], row)
    return out


def _closure(day: dt.date, start: dt.time | None, end: dt.time | None, tz: ZoneInfo) -> av.Interval:
    if start is not None and end is not None:
        return av.local_dt(day, start, tz), av.local_dt(day, end, tz)
    return av.local_dt(day, dt.time(0), tz), av.local_dt(day + dt.timedelta(days=1), dt.time(0), tz)


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
        f"SELECT room_id, date, start_time, end_time FROM {ScheduleException._meta.db_table} "  # nosec B608 # noqa: S608 - table names from model meta, values bound
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
        r_id, day = rawsql.py_uuid(r), rawsql.py_date(d)
        assert r_id is not None and day is not None
        out[r_id].append(_closure(day, rawsql.py_time(t0), rawsql.py_time(t1), tz))
    return {k: av.merge(v) for k, v in out.items()}


def doctor_week(*, org: Organization, doctor: Doctor, branch: Branch) -> dict[int, dict[str, str]]:
    """Weekday -> the doctor's hours and break at the branch as ``HH:MM`` (empty when none): the
    values of the working-week form."""
    week = {wd: {"start": "", "end": "", "break_start": "", "break_end": ""} for wd in range(7)}
    for h in WorkingHours.objects.for_org(org).filter(doctor=doctor, branch=branch):
        week[h.weekday].update(start=h.start_time.strftime("%H:%M"), end=h.end_time.strftime("%H:%M"))
    for b in ScheduleBreak.objects.for_org(org).filter(doctor=doctor, branch=branch):
        week[b.weekday].update(
            break_start=b.start_time.strftime("%H:%M"), break_end=b.end_time.strftime("%H:%M")
        )
    return week


def exception_list(*, org: Organization, doctor: Doctor, since: dt.date) -> list[ScheduleException]:
    """The doctor's exceptions from ``since`` on, by date."""
    return list(
        ScheduleException.objects.for_org(org).filter(doctor=doctor, date__gte=since).order_by("date")
    )


def exception_get(*, org: Organization, doctor: Doctor, exception_id: object) -> ScheduleException:
    """One of the doctor's exceptions; ``NotFound`` for another doctor's or an unknown id."""
    return get_by_id(ScheduleException.objects.for_org(org).filter(doctor=doctor), exception_id, "exception")
