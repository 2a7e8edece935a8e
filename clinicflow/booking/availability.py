"""Pure availability arithmetic: no database. The booking service, the slot search and the clinic
simulator all decide with these functions, so every path follows the same rules.

An interval is a half-open pair ``(start, end)`` of aware datetimes. A doctor's *windows* are the
times they work at a branch (weekly hours, or an ``open`` exception's hours on that date) less
breaks and ``closed`` exceptions. An appointment holds the doctor and the room over
``[start, start + duration + buffer)``; it must *start and end* (without the buffer) inside a window.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

Interval = tuple[dt.datetime, dt.datetime]
TimeRange = tuple[dt.time, dt.time]

UTC = dt.UTC


@dataclass
class DateException:
    """A ``closed`` (``hours`` None = whole day) or ``open`` exception on one local date."""

    kind: str  # "closed" | "open"
    hours: TimeRange | None = None
    reason: str = ""


@dataclass
class Schedule:
    """A doctor's week at one branch (local times) plus dated exceptions."""

    tz: zoneinfo.ZoneInfo
    hours: dict[int, list[TimeRange]] = field(default_factory=dict)  # weekday -> shifts
    breaks: dict[int, list[TimeRange]] = field(default_factory=dict)  # weekday -> breaks
    exceptions: dict[dt.date, list[DateException]] = field(default_factory=dict)


def local_dt(day: dt.date, t: dt.time, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """The UTC instant of a wall-clock time at a branch (a nonexistent DST time moves forward)."""
    naive = dt.datetime.combine(day, t)
    aware = naive.replace(tzinfo=tz)
    # Round-trip to detect a time inside a spring-forward gap, which zoneinfo would silently accept.
    back = aware.astimezone(UTC).astimezone(tz)
    if back.replace(tzinfo=None) != naive:
        aware = back
    return aware.astimezone(UTC)


def _range_to_interval(day: dt.date, r: TimeRange, tz: zoneinfo.ZoneInfo) -> Interval:
    start = local_dt(day, r[0], tz)
    end_day = day if r[1] > r[0] or r[1] != dt.time(0) else day + dt.timedelta(days=1)
    end = local_dt(end_day, r[1], tz)
    return start, end


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union of intervals (touching intervals are joined)."""
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def subtract(base: Sequence[Interval], cuts: Sequence[Interval]) -> list[Interval]:
    """``base`` minus ``cuts``; both sorted and merged. Linear sweep."""
    out: list[Interval] = []
    j = 0
    n = len(cuts)
    for start, end in base:
        cur = start
        while j < n and cuts[j][1] <= cur:
            j += 1
        k = j
        while k < n and cuts[k][0] < end:
            c0, c1 = cuts[k]
            if c0 > cur:
                out.append((cur, c0))
            if c1 > cur:
                cur = c1
            if cur >= end:
                break
            k += 1
        if cur < end:
            out.append((cur, end))
    return out


def working_windows(schedule: Schedule, date_from: dt.date, date_to: dt.date) -> list[Interval]:
    """The doctor's working windows (UTC) over local dates ``date_from..date_to`` inclusive."""
    tz = schedule.tz
    raw: list[Interval] = []
    cuts: list[Interval] = []
    day = date_from
    while day <= date_to:
        wd = day.weekday()
        excs = schedule.exceptions.get(day, ())
        opened = [e.hours for e in excs if e.kind == "open" and e.hours]
        shifts = opened if opened else schedule.hours.get(wd, [])
        for r in shifts:
            raw.append(_range_to_interval(day, r, tz))
        if shifts:
            for r in schedule.breaks.get(wd, []):
                cuts.append(_range_to_interval(day, r, tz))
            for e in excs:
                if e.kind != "closed":
                    continue
                if e.hours is None:
                    cuts.append(
                        (local_dt(day, dt.time(0), tz), local_dt(day + dt.timedelta(days=1), dt.time(0), tz))
                    )
                else:
                    cuts.append(_range_to_interval(day, e.hours, tz))
        day += dt.timedelta(days=1)
    return subtract(merge(raw), merge(cuts))


def contains(windows: Sequence[Interval], start: dt.datetime, end: dt.datetime) -> bool:
    """Whether ``[start, end)`` lies inside one of the sorted, merged ``windows``."""
    i = bisect_right(windows, (start, dt.datetime.max.replace(tzinfo=UTC))) - 1
    return i >= 0 and windows[i][0] <= start and end <= windows[i][1]


def overlaps(busy: Sequence[Interval], start: dt.datetime, end: dt.datetime) -> bool:
    """Whether ``[start, end)`` overlaps any interval of the sorted, merged ``busy``."""
    i = bisect_left(busy, (end, end))  # first interval starting at or after `end`
    return i > 0 and busy[i - 1][1] > start


def interval_is_free(
    *,
    windows: Sequence[Interval],
    taken: Sequence[Interval],
    start: dt.datetime,
    end: dt.datetime,
    busy_until: dt.datetime | None = None,
) -> bool:
    """The simulator's and the service's one rule: ``[start, end)`` inside a working window and
    ``[start, busy_until)`` (end + buffer) clear of every taken interval. ``taken`` sorted and merged."""
    return contains(windows, start, end) and not overlaps(taken, start, busy_until or end)


def free_gaps(windows: Sequence[Interval], taken: Sequence[Interval], buffer: dt.timedelta) -> list[Interval]:
    """Gaps where an appointment may sit: each window is extended by ``buffer`` (the buffer may run past
    the end of a shift), then the taken intervals are cut out. A start ``s`` fits a gap ``[a, b)`` when
    ``a <= s`` and ``s + duration + buffer <= b``."""
    if buffer:
        windows = merge((a, b + buffer) for a, b in windows)
    return subtract(windows, taken)


def aligned_starts(
    gap: Interval, *, length: dt.timedelta, step: dt.timedelta, tz: zoneinfo.ZoneInfo, not_before: dt.datetime
) -> Iterator[dt.datetime]:
    """Starts inside ``gap`` on the branch's local clock grid (multiples of ``step`` from local midnight)."""
    a, b = gap
    if a < not_before:
        a = not_before
    step_s = int(step.total_seconds())
    local = a.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    since = int((local.replace(tzinfo=None) - midnight.replace(tzinfo=None)).total_seconds())
    offset = -since % step_s
    s = a + dt.timedelta(seconds=offset)
    if s.microsecond:
        s = s.replace(microsecond=0) + dt.timedelta(seconds=1)
    while s + length <= b:
        yield s
        s += step
