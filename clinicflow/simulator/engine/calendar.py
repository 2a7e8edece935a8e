"""The simulated calendar: days, months, weekdays, holidays, time-zone offsets, seasonality."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import numpy as np

from clinicflow.simulator.scenario import Scenario

EPOCH = dt.date(1970, 1, 1)


def add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    return dt.date(d.year + y, m + 1, 1)


@dataclass
class Calendar:
    start: dt.date
    end: dt.date  # the last simulated day ("today")
    n_days: int  # simulated days (start..end)
    horizon: int  # extra future days that may hold booked appointments
    months: int
    day_epoch: np.ndarray  # days since 1970-01-01, per day index (n_days + horizon)
    weekday: np.ndarray  # 0 = Monday
    month_of_day: np.ndarray  # 0..months-1, months for horizon days
    month_start: np.ndarray  # first day index of each month (months + 1 entries)
    month_of_year: np.ndarray  # 0..11 per month index
    holiday: np.ndarray  # bool per day
    utc_offset_min: np.ndarray  # (branches, days) local − UTC in minutes

    @property
    def total_days(self) -> int:
        return self.n_days + self.horizon


def build_calendar(scn: Scenario, horizon: int = 30) -> Calendar:
    end = scn.end_date
    start = add_months(dt.date(end.year, end.month, 1), -(scn.months - 1))
    n_days = (end - start).days + 1
    total = n_days + horizon
    first = (start - EPOCH).days
    day_epoch = np.arange(first, first + total, dtype=np.int64)
    weekday = ((day_epoch + 3) % 7).astype(np.int8)  # 1970-01-01 was a Thursday
    dates = [start + dt.timedelta(days=i) for i in range(total)]
    month_index = np.array(
        [(d.year - start.year) * 12 + d.month - start.month for d in dates], dtype=np.int32
    )
    month_of_day = np.minimum(month_index, scn.months).astype(np.int32)
    month_of_day[n_days:] = scn.months
    month_start = np.searchsorted(month_of_day, np.arange(scn.months + 1)).astype(np.int32)
    month_of_year = np.array([(start.month - 1 + m) % 12 for m in range(scn.months + 1)], dtype=np.int8)
    holiday = np.zeros(total, dtype=bool)
    md = [(d.month, d.day) for d in dates]
    for (m1, d1), (m2, d2) in scn.holidays:
        for i, x in enumerate(md):
            if (m1, d1) <= x <= (m2, d2):
                holiday[i] = True
    offsets = np.zeros((len(scn.branches), total), dtype=np.int32)
    for b, branch in enumerate(scn.branches):
        tz = zoneinfo.ZoneInfo(branch.timezone)
        cache: dict[tuple[int, int], int] = {}
        for i, d in enumerate(dates):
            key = (d.year, d.month * 40 + d.day // 8)  # offsets only change at DST dates
            if key not in cache:
                noon = dt.datetime(d.year, d.month, d.day, 12, tzinfo=tz)
                off = noon.utcoffset()
                cache[key] = int(off.total_seconds() // 60) if off is not None else 0
            offsets[b, i] = cache[key]
    return Calendar(
        start=start,
        end=end,
        n_days=n_days,
        horizon=horizon,
        months=scn.months,
        day_epoch=day_epoch,
        weekday=weekday,
        month_of_day=month_of_day,
        month_start=month_start,
        month_of_year=month_of_year,
        holiday=holiday,
        utc_offset_min=offsets,
    )
