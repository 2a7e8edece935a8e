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
days, a few milliseconds per thousand windows (the former Python build: ~1 s per 30,000). A full
rebuild computes them once for every day (``windows_staged``, the table ``owner_windows_all``) and each
chunk of days copies its own (the day facts) or reads them there (the capacity facts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

from clinicflow.analytics.owner.facts_span import data_span
from clinicflow.booking.models import (
    DoctorBranch,
    ScheduleBreak,
    ScheduleException,
    WorkingHours,
)
from clinicflow.core.models import Branch, Organization

WINDOWS = "owner_windows"
STAGED = "owner_windows_all"  # every day's windows, staged once by ``windows_staged``
# what ``windows_staged`` holds, per session (the id of the database connection): (org, first, last day)
_STAGED: dict[int, tuple[Any, dt.date, dt.date]] = {}
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


def windows_sql(table: str = WINDOWS) -> str:
    """``INSERT INTO table`` the window pieces of the local days [%(d0)s, %(d1)s]. Every shift and cut
    of a day lies inside that day (its local midnights), so the union and the subtraction are taken per
    doctor and day (a linear cost; the former union of a doctor's whole span grew faster than its
    days) and a day's windows are its pieces: a window across midnight is two pieces either way."""
    wd = "(extract(isodow FROM c.day)::int - 1)"  # Monday 0, as ``Weekday`` and ``date.weekday()``
    return f"""
    INSERT INTO {table} (branch_id, doctor_id, day, ws, we, lo, hi)
    WITH br AS (
      SELECT id AS branch_id, timezone AS tz FROM {BRANCH} WHERE organization_id = %(org)s AND is_active
    ), clock AS MATERIALIZED (
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
      SELECT k.branch_id, k.doctor_id, c.day, {_span("c.day", "k.start_time", "k.end_time", "c")} AS r
      FROM {BREAKS} k JOIN clock c ON c.branch_id = k.branch_id AND k.weekday = {wd}
      WHERE k.organization_id = %(org)s
      UNION ALL
      SELECT e.branch_id, e.doctor_id, e.day, CASE WHEN e.t0 IS NULL OR e.t1 IS NULL
        THEN tstzrange(c.m0, c.m1) ELSE {_span("c.day", "e.t0", "e.t1", "c")} END
      FROM ex e JOIN clock c ON c.branch_id = e.branch_id AND c.day = e.day
      WHERE e.kind = 'closed'
    ), won AS (
      SELECT branch_id, doctor_id, day, range_agg(r) AS m FROM shifts GROUP BY branch_id, doctor_id, day
    ), cut AS (
      SELECT branch_id, doctor_id, day, range_agg(r) AS m FROM cuts GROUP BY branch_id, doctor_id, day
    ), win AS (
      SELECT won.branch_id, won.doctor_id, won.day,
        unnest(won.m - COALESCE(cut.m, '{{}}'::tstzmultirange)) AS r
      FROM won LEFT JOIN cut ON cut.branch_id = won.branch_id AND cut.doctor_id = won.doctor_id
        AND cut.day = won.day
    ), pieces AS (
      SELECT w.branch_id, w.doctor_id, w.day, w.r * tstzrange(c.m0, c.m1) AS p
      FROM win w JOIN clock c ON c.branch_id = w.branch_id AND c.day = w.day
    ), bounds AS (
      SELECT branch_id, MIN(m0) AS lo, MAX(m1) AS hi FROM clock GROUP BY branch_id
    )
    SELECT p.branch_id, p.doctor_id, p.day, lower(p.p), upper(p.p), b.lo, b.hi
    FROM pieces p JOIN bounds b ON b.branch_id = p.branch_id WHERE NOT isempty(p.p)
    """  # nosec B608 # noqa: S608 - names from model meta, values bound


def _create(cur: Any, table: str) -> None:
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    cur.execute(f"DROP TABLE IF EXISTS {table}")
    cur.execute(
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"CREATE TEMPORARY TABLE {table} (branch_id uuid, doctor_id uuid, day date, "
        f"ws timestamptz, we timestamptz, lo timestamptz, hi timestamptz)"
    )


def covered(org: Organization, d0: dt.date, d1: dt.date) -> bool:
    """Whether ``windows_staged`` holds the windows of these days (this organisation, this session)."""
    got = _STAGED.get(_session())
    return got is not None and got[0] == org.pk and got[1] <= d0 and d1 <= got[2]


def _session() -> int:
    connection.ensure_connection()
    return id(connection.connection)


def copy_sql() -> str:
    """``INSERT INTO owner_windows`` the staged pieces of the local days [%(d0)s, %(d1)s] with the bounds
    of those days (as ``windows_sql`` gives them: each active branch's first and last local midnight)."""
    lo, hi = (
        _local("%(d0)s::date::timestamp", "b.timezone"),
        _local("(%(d1)s::date + 1)::timestamp", "b.timezone"),
    )
    return f"""
    INSERT INTO {WINDOWS} (branch_id, doctor_id, day, ws, we, lo, hi)
    SELECT w.branch_id, w.doctor_id, w.day, w.ws, w.we, b.lo, b.hi FROM {STAGED} w
    JOIN (SELECT id, {lo} AS lo, {hi} AS hi FROM {BRANCH} b WHERE organization_id = %(org)s AND is_active) b
      ON b.id = w.branch_id
    WHERE w.day BETWEEN %(d0)s AND %(d1)s
    """  # nosec B608 # noqa: S608 - names from model meta, values bound


def stage_windows(org: Organization, d0: dt.date, d1: dt.date) -> int:
    """(Re)create ``owner_windows`` with the working windows of the local days ``d0``..``d1`` (copied
    from ``windows_staged``'s table when it holds them); returns the number of pieces."""
    with connection.cursor() as cur:
        _create(cur, WINDOWS)
        args: dict[str, Any] = {"org": org.pk, "d0": d0, "d1": d1}
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(copy_sql() if covered(org, d0, d1) else windows_sql(), args)
        n = cur.rowcount
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"ANALYZE {WINDOWS}")
    return int(n or 0)


@contextmanager
def windows_staged(org: Organization, span: tuple[dt.date, dt.date] | None = None) -> Iterator[None]:
    """The working windows of every day of ``span`` (default the data's, ``facts_span.data_span``)
    staged once, in the temporary table ``owner_windows_all``: inside, ``stage_windows`` of days in
    the span copies them rather than computing them again (the full rebuild stages a chunk's windows
    for the day facts and the capacity facts: the cost of computing them once for the whole span).
    Dropped at the end (left to the session after an error: its transaction may be aborted)."""
    if span is None:
        span = data_span(org)
    session = _session()
    if span is None or session in _STAGED:  # nothing to stage, or staged by the caller
        yield
        return
    with connection.cursor() as cur:
        _create(cur, STAGED)
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(windows_sql(STAGED), {"org": org.pk, "d0": span[0], "d1": span[1]})
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"ANALYZE {STAGED}")
    _STAGED[session] = (org.pk, span[0], span[1])
    try:
        yield
    finally:
        _STAGED.pop(session, None)
    # after an error the table is left to the session (its transaction may be aborted)
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"DROP TABLE IF EXISTS {STAGED}")
