"""The doctors' working windows of a span of local days, for the set-based load (``facts_sql``): the
windows of the capacity report's definition (``capacity.compute_load``: each active branch's doctors,
their weekly hours less breaks and exceptions, ``availability.working_windows``), cut at the branch's
local midnights and copied into the temporary table ``owner_windows`` (branch, doctor, local day,
window start and end, and the branch's bounds of the span: ``booking.selectors.day_bounds``, the
appointments counted). The statements then sum the available seconds per branch and day and intersect
the live appointments with them (the booked seconds)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator

from django.db import connection

from clinicflow.booking import availability as av
from clinicflow.booking import selectors
from clinicflow.core.models import Organization
from clinicflow.core.selectors import branch_list

WINDOWS = "owner_windows"


def day_pieces(
    interval: av.Interval, tz: zoneinfo.ZoneInfo
) -> Iterator[tuple[dt.date, dt.datetime, dt.datetime]]:
    """(local date, start, end) pieces of an interval cut at the zone's midnights (the days the capacity
    report's hour pieces, ``capacity._split_hours``, fall on)."""
    cur, end = interval
    while cur < end:
        local = cur.astimezone(tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
        nxt = midnight.astimezone(dt.UTC)
        piece_end = min(nxt if nxt > cur else end, end)
        yield local.date(), cur, piece_end
        cur = piece_end


def stage_windows(org: Organization, d0: dt.date, d1: dt.date) -> int:
    """(Re)create ``owner_windows`` with the working windows of the local days ``d0``..``d1``; returns
    the number of pieces."""
    rows: list[tuple[object, ...]] = []
    for branch in branch_list(org=org):
        tz = branch.tz
        doctors = [d.pk for d in selectors.doctor_list(org=org, branch=branch, active_only=False)]
        schedules = selectors.schedules_load(
            org=org, branch=branch, doctor_ids=doctors, date_from=d0, date_to=d1
        )
        lo, hi = selectors.day_bounds(branch, d0, d1)
        for doctor in doctors:
            for window in av.working_windows(schedules[doctor], d0, d1):
                for day, start, end in day_pieces(window, tz):
                    if d0 <= day <= d1:
                        rows.append((branch.pk, doctor, day, start, end, lo, hi))
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"DROP TABLE IF EXISTS {WINDOWS}")
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"CREATE TEMPORARY TABLE {WINDOWS} (branch_id uuid, doctor_id uuid, day date, "
            f"ws timestamptz, we timestamptz, lo timestamptz, hi timestamptz)"
        )
        with cur.cursor.copy(
            f"COPY {WINDOWS} (branch_id, doctor_id, day, ws, we, lo, hi) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"ANALYZE {WINDOWS}")
    return len(rows)
