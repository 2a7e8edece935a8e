"""Free-slot search: each free start of a service at a branch with a doctor and a free room.

Loads the period's schedules and appointments once (7 queries whatever the period), then sweeps
intervals in Python (``clinicflow.booking.availability``)."""

from __future__ import annotations

import datetime as dt
import heapq
import uuid
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

from clinicflow.booking import availability as av
from clinicflow.booking.models import Doctor
from clinicflow.booking.selectors.appointments import live_rows, split_taken
from clinicflow.booking.selectors.resources import doctor_names, room_ids
from clinicflow.booking.selectors.schedules import day_bounds, room_closures, schedules_load, settings_for
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization


@dataclass(frozen=True)
class Slot:
    start: dt.datetime
    end: dt.datetime
    doctor_id: uuid.UUID
    room_id: uuid.UUID | None
    doctor_name: str = ""


class RoomGaps:
    """Every room's free gaps in one list sorted by start, with a running maximum of the gap ends: a
    start s fits some room iff the gap with the largest end among those starting at or before s
    reaches s + length."""

    def __init__(self, gaps: list[tuple[dt.datetime, int, dt.datetime, uuid.UUID]]) -> None:
        gaps.sort()
        self.starts = [g[0] for g in gaps]
        self.best_end: list[dt.datetime] = []
        self.best_room: list[uuid.UUID] = []
        for _g0, _o, g1, r in gaps:
            if not self.best_end or g1 > self.best_end[-1]:
                self.best_end.append(g1)
                self.best_room.append(r)
            else:
                self.best_end.append(self.best_end[-1])
                self.best_room.append(self.best_room[-1])

    def room_for(self, start: dt.datetime, length: dt.timedelta) -> uuid.UUID | None:
        i = bisect_right(self.starts, start) - 1
        if i >= 0 and self.best_end[i] >= start + length:
            return self.best_room[i]
        return None


@dataclass(frozen=True)
class StartFilter:
    """The weekdays (0 = Monday) and local start times a search narrows to ("Saturday morning")."""

    tz: ZoneInfo
    weekdays: frozenset[int] | None = None
    time_from: dt.time | None = None
    time_to: dt.time | None = None

    @property
    def active(self) -> bool:
        return self.weekdays is not None or self.time_from is not None or self.time_to is not None

    def accepts(self, start: dt.datetime) -> bool:
        local = start.astimezone(self.tz)
        if self.weekdays is not None and local.weekday() not in self.weekdays:
            return False
        if self.time_from is not None and local.time() < self.time_from:
            return False
        return not (self.time_to is not None and local.time() > self.time_to)

    def blocked(
        self, date_from: dt.date, date_to: dt.date, whole: list[av.Interval], length: dt.timedelta
    ) -> list[av.Interval]:
        """The time outside which no start is generated (``accepts`` still checks each start exactly):
        "after 14:00" skips the morning instead of generating and refusing it."""
        if not self.active:
            return []
        allowed = []
        day = date_from
        while day <= date_to:
            if self.weekdays is None or day.weekday() in self.weekdays:
                a = av.local_dt(day, self.time_from or dt.time(0), self.tz)
                b = (
                    av.local_dt(day, self.time_to, self.tz)
                    if self.time_to is not None
                    else av.local_dt(day + dt.timedelta(days=1), dt.time(0), self.tz)
                )
                allowed.append((a, b + length))
            day += dt.timedelta(days=1)
        return av.subtract(whole, av.merge(allowed))


@dataclass(frozen=True)
class _Search:
    """What each doctor's sweep needs."""

    date_from: dt.date
    date_to: dt.date
    length: dt.timedelta
    buffer: dt.timedelta
    step: dt.timedelta
    not_before: dt.datetime
    starts: StartFilter
    rooms: RoomGaps
    blocked: list[av.Interval]


def _doctor_starts(
    search: _Search, d_id: uuid.UUID, schedule: av.Schedule, taken: list[av.Interval]
) -> Iterator[tuple[dt.datetime, str, uuid.UUID, uuid.UUID]]:
    """(start, doctor key, doctor, room) of each free start of one doctor, chronological."""
    windows = av.working_windows(schedule, search.date_from, search.date_to)
    gaps = av.free_gaps(windows, taken, search.buffer)
    if search.blocked:
        gaps = av.subtract(gaps, search.blocked)
    key = str(d_id)
    tz, filtered = search.starts.tz, search.starts.active
    for gap in gaps:
        for s in av.aligned_starts(
            gap, length=search.length, step=search.step, tz=tz, not_before=search.not_before
        ):
            if filtered and not search.starts.accepts(s):
                continue
            r = search.rooms.room_for(s, search.length)
            if r is not None:
                yield s, key, d_id, r


def _room_gaps(
    rooms: list[uuid.UUID],
    closures: dict[uuid.UUID, list[av.Interval]],
    taken: dict[uuid.UUID, list[av.Interval]],
    whole: list[av.Interval],
) -> RoomGaps:
    order = {r: i for i, r in enumerate(rooms)}
    return RoomGaps(
        [
            (g0, order[r], g1, r)
            for r in rooms
            for g0, g1 in av.subtract(av.subtract(whole, closures.get(r, [])), taken.get(r, []))
        ]
    )


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
    one_per_start: bool = False,
) -> list[Slot]:
    """Free slots of a service at a branch, chronological, each with a doctor and a free room.

    ``weekdays`` (0 = Monday) and ``time_from``/``time_to`` (local start times) narrow the search
    ("Saturday morning"). ``one_per_start`` keeps one slot per start time (whichever doctor comes
    first), before ``limit`` counts, so "any doctor" fills the same days as one doctor would."""
    now = timezone.now()
    step = step_minutes or settings_for(org=org, branch=branch).slot_step_minutes or 15
    duration = dt.timedelta(minutes=service.duration_minutes)
    buffer = dt.timedelta(minutes=service.buffer_minutes)
    period_start, period_end = day_bounds(branch, date_from, date_to)
    names = doctor_names(org=org, branch=branch, service=service, doctor=doctor)
    candidates = list(names)
    rooms = room_ids(org=org, branch=branch, room_type=service.room_type) if candidates else []
    if not rooms:
        return []
    schedules = schedules_load(
        org=org, branch=branch, doctor_ids=candidates, date_from=date_from, date_to=date_to
    )
    rows = live_rows(org=org, doctor_ids=candidates, room_ids=rooms, start=period_start, end=period_end)
    doctor_taken, room_taken = split_taken(rows, set(candidates), set(rooms))
    closures = room_closures(org=org, branch=branch, room_ids=rooms, date_from=date_from, date_to=date_to)
    whole = [(period_start, period_end + duration + buffer)]
    starts = StartFilter(
        tz=branch.tz,
        weekdays=frozenset(weekdays) if weekdays is not None else None,
        time_from=time_from,
        time_to=time_to,
    )
    search = _Search(
        date_from=date_from,
        date_to=date_to,
        length=duration + buffer,
        buffer=buffer,
        step=dt.timedelta(minutes=step),
        not_before=max(not_before or now, now),
        starts=starts,
        rooms=_room_gaps(rooms, closures, room_taken, whole),
        blocked=starts.blocked(date_from, date_to, whole, duration + buffer),
    )
    sweeps = (_doctor_starts(search, d, schedules[d], doctor_taken.get(d, [])) for d in candidates)
    out: list[Slot] = []
    for s, _key, d_id, r in heapq.merge(*sweeps):
        if one_per_start and out and out[-1].start == s:
            continue
        out.append(Slot(start=s, end=s + duration, doctor_id=d_id, room_id=r, doctor_name=names[d_id]))
        if limit is not None and len(out) >= limit:
            break
    return out
