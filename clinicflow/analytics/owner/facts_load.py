"""The doctors' working windows of a span of local days, for the set-based load (``facts_sql``): the
windows of the capacity report's definition (``capacity.compute_load``: each active branch's doctors,
their weekly hours less breaks and exceptions, ``availability.working_windows``), cut at the branch's
local midnights, written by one statement into the temporary table ``owner_windows`` (branch, doctor,
local day, window start and end, and the branch's bounds of the span: ``booking.selectors.day_bounds``,
the appointments counted). The statements then sum the available seconds per branch and day and
intersect the live appointments with them (the booked seconds).

``working_windows`` in SQL: per doctor and branch the union of the day's shifts (an ``open`` exception's
hours on its date, else the weekday's hours) less the union of the cuts of the days with shifts (the
weekday's breaks, ``closed`` exceptions: their hours, or the whole local day) — PostgreSQL's
multiranges (``range_agg``, ``-``) are exactly ``availability.merge`` and ``subtract``. A wall-clock
time becomes an instant as ``availability.local_dt`` does (``_LOCAL``). The cost grows with doctors ×
days, a few milliseconds per thousand windows (the former Python build: ~1 s per 30,000)."""

from __future__ import annotations

import datetime as dt

from django.db import connection

from clinicflow.booking.models import (
    DoctorBranch,
    ScheduleBreak,
    ScheduleException,
    WorkingHours,
)
from clinicflow.core.models import Branch, Organization

WINDOWS = "owner_windows"
HOURS = WorkingHours._meta.db_table
BREAKS = ScheduleBreak._meta.db_table
EXCEPTIONS = ScheduleException._meta.db_table
LINKS = DoctorBranch._meta.db_table
BRANCH = Branch._meta.db_table


def _local(ts: str, tz: str) -> str:
    """The instant of the local wall-clock timestamp ``ts`` on the zone ``tz`` as ``availability.
    local_dt`` gives it: PostgreSQL's ``AT TIME ZONE`` takes an ambiguous time (the autumn hour) as
    standard time, the Python code as its first occurrence (the offset before the change, as for a
    time in the spring gap, where both agree), so the earlier reading is kept when it is a reading."""
    u1 = f"(({ts}) AT TIME ZONE {tz})"
    before = f"({u1} - interval '1 day')"
    offset = f"(({before} AT TIME ZONE {tz}) - ({before} AT TIME ZONE 'UTC'))"
    early = f"((({ts}) - {offset}) AT TIME ZONE 'UTC')"
    return f"(CASE WHEN {early} < {u1} AND ({early} AT TIME ZONE {tz}) = ({ts}) THEN {early} ELSE {u1} END)"


def _at(day: str, t: str, c: str) -> str:
    """The instant of the wall-clock time ``t`` on the local ``day`` of the ``clock`` row ``c``: its
    midnight plus the time on a day without a change of offset, ``_LOCAL``'s reading on one with."""
    return (
        f"(CASE WHEN {c}.m1 - {c}.m0 = interval '24 hours' THEN {c}.m0 + ({t} - time '00:00') "
        f"ELSE {_local(f'({day} + {t})', f'{c}.tz')} END)"
    )


def _span(day: str, t0: str, t1: str, c: str) -> str:
    """``availability._range_to_interval``: a day's hours as a range (an end at midnight not after the
    start: the next day's midnight); NULL where it ends before it starts (``merge`` drops those)."""
    start = _at(day, t0, c)
    end = f"(CASE WHEN {t1} > {t0} OR {t1} <> time '00:00' THEN {_at(day, t1, c)} ELSE {c}.m1 END)"
    return f"(CASE WHEN {end} >= {start} THEN tstzrange({start}, {end}) END)"


def windows_sql() -> str:
    """``INSERT INTO owner_windows`` the window pieces of the local days [%(d0)s, %(d1)s]."""
    wd = "(extract(isodow FROM c.day)::int - 1)"  # Monday 0, as ``Weekday`` and ``date.weekday()``
    return f"""
    INSERT INTO {WINDOWS} (branch_id, doctor_id, day, ws, we, lo, hi)
    WITH br AS (
      SELECT id AS branch_id, timezone AS tz FROM {BRANCH} WHERE organization_id = %(org)s AND is_active
    ), clock AS (
      SELECT br.branch_id, br.tz, d.day, {_local("d.day::timestamp", "br.tz")} AS m0,
        {_local("(d.day + 1)::timestamp", "br.tz")} AS m1
      FROM br CROSS JOIN (SELECT g::date AS day
        FROM generate_series(%(d0)s::date, %(d1)s::date, interval '1 day') g) d
    ), dl AS (
      SELECT l.branch_id, l.doctor_id FROM {LINKS} l JOIN br ON br.branch_id = l.branch_id
      WHERE l.organization_id = %(org)s
    ), ex AS (
      SELECT branch_id, doctor_id, date AS day, kind, start_time AS t0, end_time AS t1 FROM {EXCEPTIONS}
      WHERE organization_id = %(org)s AND doctor_id IS NOT NULL AND date BETWEEN %(d0)s AND %(d1)s
    ), opened AS (
      SELECT * FROM ex WHERE kind = 'open' AND t0 IS NOT NULL AND t1 IS NOT NULL
    ), shifts AS (
      SELECT dl.branch_id, dl.doctor_id, c.day, {_span("c.day", "o.t0", "o.t1", "c")} AS r FROM opened o
      JOIN dl ON dl.branch_id = o.branch_id AND dl.doctor_id = o.doctor_id
      JOIN clock c ON c.branch_id = o.branch_id AND c.day = o.day
      UNION ALL
      SELECT dl.branch_id, dl.doctor_id, c.day, {_span("c.day", "h.start_time", "h.end_time", "c")} FROM dl
      JOIN {HOURS} h ON h.organization_id = %(org)s AND h.branch_id = dl.branch_id
        AND h.doctor_id = dl.doctor_id
      JOIN clock c ON c.branch_id = dl.branch_id AND {wd} = h.weekday
      WHERE NOT EXISTS (SELECT 1 FROM opened o WHERE o.branch_id = dl.branch_id
        AND o.doctor_id = dl.doctor_id AND o.day = c.day)
    ), cuts AS (
      SELECT k.branch_id, k.doctor_id, {_span("c.day", "k.start_time", "k.end_time", "c")} AS r
      FROM {BREAKS} k JOIN clock c ON c.branch_id = k.branch_id AND k.weekday = {wd}
      WHERE k.organization_id = %(org)s AND EXISTS (SELECT 1 FROM shifts s
        WHERE s.branch_id = k.branch_id AND s.doctor_id = k.doctor_id AND s.day = c.day)
      UNION ALL
      SELECT e.branch_id, e.doctor_id, CASE WHEN e.t0 IS NULL OR e.t1 IS NULL
        THEN tstzrange(c.m0, c.m1) ELSE {_span("c.day", "e.t0", "e.t1", "c")} END
      FROM ex e JOIN clock c ON c.branch_id = e.branch_id AND c.day = e.day
      WHERE e.kind = 'closed' AND EXISTS (SELECT 1 FROM shifts s
        WHERE s.branch_id = e.branch_id AND s.doctor_id = e.doctor_id AND s.day = e.day)
    ), won AS (
      SELECT branch_id, doctor_id, range_agg(r) AS m FROM shifts GROUP BY branch_id, doctor_id
    ), cut AS (
      SELECT branch_id, doctor_id, range_agg(r) AS m FROM cuts GROUP BY branch_id, doctor_id
    ), win AS (
      SELECT won.branch_id, won.doctor_id, unnest(won.m - COALESCE(cut.m, '{{}}'::tstzmultirange)) AS r
      FROM won LEFT JOIN cut ON cut.branch_id = won.branch_id AND cut.doctor_id = won.doctor_id
    ), spans AS (
      SELECT win.branch_id, win.doctor_id, win.r, g.d::date AS day
      FROM win JOIN br ON br.branch_id = win.branch_id
      CROSS JOIN LATERAL generate_series((lower(win.r) AT TIME ZONE br.tz)::date,
        (upper(win.r) AT TIME ZONE br.tz)::date, interval '1 day') AS g(d)
    ), pieces AS (
      SELECT s.branch_id, s.doctor_id, s.day, s.r * tstzrange(c.m0, c.m1) AS p
      FROM spans s JOIN clock c ON c.branch_id = s.branch_id AND c.day = s.day
    ), bounds AS (
      SELECT branch_id, MIN(m0) AS lo, MAX(m1) AS hi FROM clock GROUP BY branch_id
    )
    SELECT p.branch_id, p.doctor_id, p.day, lower(p.p), upper(p.p), b.lo, b.hi
    FROM pieces p JOIN bounds b ON b.branch_id = p.branch_id WHERE NOT isempty(p.p)
    """  # nosec B608 # noqa: S608 - names from model meta, values bound


def stage_windows(org: Organization, d0: dt.date, d1: dt.date) -> int:
    """(Re)create ``owner_windows`` with the working windows of the local days ``d0``..``d1``; returns
    the number of pieces."""
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"DROP TABLE IF EXISTS {WINDOWS}")
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"CREATE TEMPORARY TABLE {WINDOWS} (branch_id uuid, doctor_id uuid, day date, "
            f"ws timestamptz, we timestamptz, lo timestamptz, hi timestamptz)"
        )
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(windows_sql(), {"org": org.pk, "d0": d0, "d1": d1})
        n = cur.rowcount
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"ANALYZE {WINDOWS}")
    return int(n or 0)
