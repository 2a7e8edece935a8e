"""The planner's capacity counted per weekday (``pricing.capacity.available_seconds``) equals the
windows of the whole period (``booking.availability``): a doctor's working windows and a room's open
hours less its closures, over a quarter that holds both clock changes of a European zone, with
exceptions (closed all day, closed for hours, open on other hours), a shift that ends at midnight,
breaks and a closure of several days merged into one interval."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from clinicflow.analytics.pricing.capacity import _clock_changes, _dates, available_seconds
from clinicflow.booking import availability as av
from clinicflow.core.models import Branch

TZ = zoneinfo.ZoneInfo("Europe/London")
D0, D1 = dt.date(2026, 3, 2), dt.date(2026, 11, 8)  # spring forward 03-29, fall back 10-25


def T(h: int, m: int = 0) -> dt.time:
    return dt.time(h, m)


def _schedules() -> list[av.Schedule]:
    a = av.Schedule(tz=TZ)
    for wd in range(5):
        a.hours[wd] = [(T(9), T(13)), (T(14), T(18))]
    a.hours[5] = [(T(18), T(0))]  # Saturday evening to midnight
    a.breaks[2] = [(T(11), T(11, 30))]
    a.exceptions[dt.date(2026, 3, 30)] = [av.DateException(kind="closed")]
    a.exceptions[dt.date(2026, 5, 6)] = [av.DateException(kind="closed", hours=(T(9), T(12)))]
    a.exceptions[dt.date(2026, 5, 10)] = [av.DateException(kind="open", hours=(T(10), T(15)))]  # a Sunday
    b = av.Schedule(tz=TZ)
    for wd in (1, 3, 6):
        b.hours[wd] = [(T(0), T(4)), (T(12), T(20))]  # early hours: across the clock change
    b.exceptions[dt.date(2026, 10, 25)] = [av.DateException(kind="open", hours=(T(1), T(3)))]
    b.exceptions[dt.date(2026, 7, 9)] = [
        av.DateException(kind="closed", hours=(T(13), T(14))),
        av.DateException(kind="closed", hours=(T(19), T(21))),
    ]
    return [a, b, av.Schedule(tz=TZ)]  # the last one never works


def _closures() -> list[list[av.Interval]]:
    def day(d: dt.date) -> av.Interval:
        return av.local_dt(d, T(0), TZ), av.local_dt(d + dt.timedelta(days=1), T(0), TZ)

    several = av.merge([day(dt.date(2026, 4, d)) for d in (7, 8, 9)])  # one interval over three days
    hours = (av.local_dt(dt.date(2026, 3, 29), T(0), TZ), av.local_dt(dt.date(2026, 3, 29), T(3), TZ))
    edge = [day(dt.date(2026, 3, 1)), day(dt.date(2026, 11, 8))]  # before the period, its last day
    return [[], several, av.merge([hours, *edge, day(dt.date(2026, 10, 25))])]


def _seconds(windows: list[av.Interval]) -> int:
    return int(sum((b - a).total_seconds() for a, b in windows))


def test_the_capacity_per_weekday_equals_the_windows_of_the_whole_period() -> None:
    schedules, rooms = _schedules(), _closures()
    days = _dates(D0, D1)
    changes = _clock_changes(Branch(timezone="Europe/London"), days)
    assert changes == {dt.date(2026, 3, 29), dt.date(2026, 10, 25)}
    doctors, room_secs = available_seconds(schedules, rooms, days, TZ, changes)
    whole = [av.working_windows(s, D0, D1) for s in schedules]
    assert doctors == [_seconds(w) for w in whole]
    opened = av.merge(w for ws in whole for w in ws)
    assert room_secs == [_seconds(av.subtract(opened, c)) for c in rooms]
    # the checks bite: the exceptions and the closures move the figures
    plain = [av.Schedule(tz=TZ, hours=s.hours, breaks=s.breaks) for s in schedules]
    assert available_seconds(plain, rooms, days, TZ, changes)[0][:2] != doctors[:2]
    assert room_secs[0] > room_secs[1] > 0 and room_secs[0] != room_secs[2]
    assert doctors[2] == 0
