"""Build the capacity load facts (``CapacityFact``, issue #17) of the capacity report's definition
(``capacity.compute_load``: the doctors' working windows, a room open while any doctor works at its
branch and it is not closed, the live appointments inside them): per branch and local day, a row of
the available and booked seconds of each doctor and of each room (``hour`` = ``DAY``), and a row per
local hour of the branch's doctors together (no doctor, no room: the "by hour" view). Every figure
the report shows is a sum of these rows, equal to the former hour rows per doctor and room (a tenth
of the rows; the hours were 90% of a rebuild's capacity time and of its rows).

One definition: on SQLite (and as the reference) the facts are that function's cells summed; on
PostgreSQL one statement builds them from the working windows staged by ``facts_load`` (the same
windows as the day facts' available seconds), PostgreSQL's multiranges being ``availability.merge``/
``subtract``. The windows are cut at the local midnights already, so the day rows are durations; the
hour rows cut the doctors' windows and booked parts at the branch's wall-clock hours: on a day of 24
hours by arithmetic from its midnight, on a day whose offset changes as ``_hours`` cuts.

Called by the full rebuild and the incremental update (``fact_hooks.build_owner_facts``) with the days
they build again (edits of working hours reach them as changed days: ``cap_changes``); the report
reads the sums (``reports.capacity_read``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from contextlib import nullcontext
from typing import Any

from django.db import connection, transaction

from clinicflow.analytics.owner.capload_models import DAY, CapacityFact
from clinicflow.analytics.owner.fact_ids import SEQ_ID
from clinicflow.analytics.owner.facts_load import (
    BRANCH,
    EXCEPTIONS,
    STAGED,
    WINDOWS,
    _local,
    covered,
    stage_windows,
    windows_staged,
)
from clinicflow.analytics.owner.facts_span import data_span, runs
from clinicflow.analytics.owner.factsql import tune
from clinicflow.analytics.reports.capacity import compute_load
from clinicflow.booking.models import HOLDING_STATUSES, Appointment, Room
from clinicflow.core.models import Organization
from clinicflow.core.selectors import branch_list

TABLE = CapacityFact._meta.db_table
CHUNK_DAYS = 183  # days per statement: a chain's half-year (chain-1m: ~1.3 million appointments)
APPT = Appointment._meta.db_table
ROOM = Room._meta.db_table
HOLDING_IN = "(" + ", ".join(f"'{s}'" for s in sorted(str(s) for s in HOLDING_STATUSES)) + ")"


def _hours(p: str, tz: str) -> str:
    """``FROM`` items cutting the range ``p`` at the local hours of the zone ``tz`` as
    ``capacity._split_hours`` does: ``g.h`` the wall-clock hour, ``s.sec`` the seconds of ``p`` between
    the instants of that hour and the next (``availability.local_dt``'s reading: the repeated autumn
    hour is one of two hours, the skipped spring hour is empty)."""
    lo, hi = f"(lower({p}) AT TIME ZONE {tz})", f"(upper({p}) AT TIME ZONE {tz})"
    b0, b1 = _local("g.h", tz), _local("(g.h + interval '1 hour')", tz)
    return (
        f"CROSS JOIN LATERAL generate_series(date_trunc('hour', {lo}), {hi}, interval '1 hour') AS g(h) "  # nosec B608 # noqa: S608 - SQL pieces from constants
        f"CROSS JOIN LATERAL (SELECT extract(epoch FROM LEAST(upper({p}), {b1}) "
        f"- GREATEST(lower({p}), {b0}))::float8 AS sec) AS s"
    )


def facts_sql(windows: str = WINDOWS) -> str:
    """``INSERT`` the facts of the local days [%(d0)s, %(d1)s] (UTC bounds around them: %(lo)s, %(hi)s)
    from the working windows of ``owner_windows`` (or of ``windows``: every day's, staged once by
    ``facts_load.windows_staged``; the appointments counted start inside the days' local bounds, the
    ``lo`` and ``hi`` of ``owner_windows``): the day rows of each doctor and room (durations: the
    windows are cut at the local midnights already) and the hour rows of each branch (the doctors'
    windows and their booked parts cut at the local hours: on a day of 24 hours by arithmetic from its
    midnight, on a day whose offset changes as ``_hours`` cuts)."""
    day0, day1 = _local("e.date::timestamp", "br.tz"), _local("(e.date + 1)::timestamp", "br.tz")
    t0, t1 = _local("e.date + e.start_time", "br.tz"), _local("e.date + e.end_time", "br.tz")
    closed = (
        f"CASE WHEN e.start_time IS NULL OR e.end_time IS NULL THEN tstzrange({day0}, {day1}) "
        f"ELSE tstzrange({t0}, {t1}) END"
    )
    sec = "extract(epoch FROM upper({0}) - lower({0}))::float8"
    return f"""
    INSERT INTO {TABLE} (id, organization_id, branch_id, day, hour, doctor_id, room_id, available_seconds,
      booked_seconds)
    WITH br AS (
      SELECT id AS branch_id, timezone AS tz FROM {BRANCH} WHERE organization_id = %(org)s AND is_active
    ), clock AS (
      SELECT br.branch_id, br.tz, d.day, {_local("d.day::timestamp", "br.tz")} AS m0,
        {_local("(d.day + 1)::timestamp", "br.tz")} AS m1
      FROM br CROSS JOIN (SELECT g::date AS day
        FROM generate_series(%(d0)s::date, %(d1)s::date, interval '1 day') g) d
    ), w0 AS (
      SELECT branch_id, doctor_id, day, ws, we FROM {windows} WHERE day BETWEEN %(d0)s AND %(d1)s
    ), bounds AS (
      SELECT branch_id, MIN(m0) AS lo, MAX(m1) AS hi FROM clock
      WHERE branch_id IN (SELECT branch_id FROM w0) GROUP BY branch_id
    ), opened AS (
      SELECT branch_id, day, range_agg(tstzrange(ws, we)) AS m FROM w0 GROUP BY branch_id, day
    ), closures AS (
      SELECT e.room_id, e.date AS day, range_agg({closed}) AS m FROM {EXCEPTIONS} e
      JOIN {ROOM} r ON r.id = e.room_id JOIN br ON br.branch_id = r.branch_id
      WHERE e.organization_id = %(org)s AND e.kind = 'closed' AND e.date BETWEEN %(d0)s AND %(d1)s
        AND (e.start_time IS NULL OR e.end_time IS NULL OR e.end_time >= e.start_time)
      GROUP BY e.room_id, e.date
    ), wins AS (
      SELECT branch_id, day, doctor_id, tstzrange(ws, we) AS r FROM w0
    ), rooms AS (
      SELECT r.branch_id, o.day, r.id AS room_id, unnest(o.m - COALESCE(c.m, '{{}}'::tstzmultirange)) AS r
      FROM {ROOM} r JOIN opened o ON o.branch_id = r.branch_id
      LEFT JOIN closures c ON c.room_id = r.id AND c.day = o.day
      WHERE r.organization_id = %(org)s AND r.is_active
    ), appts AS (
      SELECT a.branch_id, a.doctor_id, a.room_id, tstzrange(a.start_at, a.end_at) AS ar,
        (a.start_at AT TIME ZONE br.tz)::date AS day, (a.end_at AT TIME ZONE br.tz)::date AS last
      FROM {APPT} a JOIN bounds b ON b.branch_id = a.branch_id JOIN br ON br.branch_id = a.branch_id
      WHERE a.organization_id = %(org)s AND a.status IN {HOLDING_IN} AND a.start_at >= b.lo
        AND a.start_at < b.hi AND a.end_at > a.start_at AND a.start_at >= %(lo)s AND a.start_at < %(hi)s
    ), appt_days AS MATERIALIZED (
      SELECT branch_id, doctor_id, room_id, ar, day FROM appts
      UNION ALL
      SELECT a.branch_id, a.doctor_id, a.room_id, a.ar, g.d::date FROM appts a
      CROSS JOIN LATERAL generate_series(a.day + 1, a.last, interval '1 day') AS g(d) WHERE a.last > a.day
    ), booked AS MATERIALIZED (
      SELECT w.branch_id, w.day, w.doctor_id, w.r * a.ar AS p FROM appt_days a JOIN wins w
        ON w.branch_id = a.branch_id AND w.day = a.day AND w.doctor_id = a.doctor_id AND w.r && a.ar
    ), room_booked AS (
      SELECT u.branch_id, u.day, u.room_id, u.r * a.ar AS p FROM appt_days a JOIN rooms u
        ON u.branch_id = a.branch_id AND u.day = a.day AND u.room_id = a.room_id AND u.r && a.ar
    ), doctors AS (
      SELECT branch_id, day, doctor_id, {sec.format("r")} AS a, 0::float8 AS b FROM wins
      UNION ALL
      SELECT branch_id, day, doctor_id, 0, {sec.format("p")} FROM booked
    ), room_parts AS (
      SELECT branch_id, day, room_id, {sec.format("r")} AS a, 0::float8 AS b FROM rooms WHERE NOT isempty(r)
      UNION ALL
      SELECT branch_id, day, room_id, 0, {sec.format("p")} FROM room_booked
    ), parts AS (
      SELECT p.branch_id, p.day, p.p, p.avail, p.n, c.tz, c.m0, c.m1 - c.m0 = interval '24 hours' AS plain
      FROM (
        SELECT branch_id, day, r AS p, true AS avail, COUNT(*) AS n FROM wins GROUP BY branch_id, day, r
        UNION ALL
        SELECT branch_id, day, p, false, COUNT(*) FROM booked GROUP BY branch_id, day, p
      ) p JOIN clock c ON c.branch_id = p.branch_id AND c.day = p.day
    ), cut AS (
      SELECT p.branch_id, p.day, k.h AS hour, p.avail,
        p.n * (LEAST(x.hi, (k.h + 1) * 3600::float8) - GREATEST(x.lo, k.h * 3600::float8)) AS sec
      FROM parts p
      CROSS JOIN LATERAL (SELECT extract(epoch FROM lower(p.p) - p.m0)::float8 AS lo,
        extract(epoch FROM upper(p.p) - p.m0)::float8 AS hi) x
      CROSS JOIN LATERAL generate_series(floor(x.lo / 3600)::int, ceil(x.hi / 3600)::int - 1) AS k(h)
      WHERE p.plain
      UNION ALL
      SELECT p.branch_id, g.h::date, extract(hour FROM g.h)::int, p.avail, p.n * s.sec
      FROM parts p {_hours("p.p", "p.tz")}
      WHERE NOT p.plain AND g.h::date BETWEEN %(d0)s AND %(d1)s
    )
    SELECT {SEQ_ID}, %(org)s, t.* FROM (
      SELECT branch_id, day, {DAY} AS hour, doctor_id, NULL::uuid AS room_id, SUM(a), SUM(b)
      FROM doctors GROUP BY branch_id, day, doctor_id
      UNION ALL
      SELECT branch_id, day, {DAY}, NULL, room_id, SUM(a), SUM(b)
      FROM room_parts GROUP BY branch_id, day, room_id
      UNION ALL
      SELECT branch_id, day, hour, NULL, NULL,
        COALESCE(SUM(sec) FILTER (WHERE avail), 0), COALESCE(SUM(sec) FILTER (WHERE NOT avail), 0)
      FROM cut WHERE sec > 0 GROUP BY branch_id, day, hour
    ) t
    """  # nosec B608 # noqa: S608 - names from model meta, values bound


def _run(sql: str, params: dict[str, Any]) -> int:
    tune()
    with connection.cursor() as cur:
        # hash joins: the estimates of the set-returning functions' rows are far off (1000 a call);
        # the setting as it was for the transaction's later statements
        cur.execute("SELECT current_setting('enable_mergejoin'), set_config('enable_mergejoin', 'off', true)")
        was = cur.fetchone()[0]
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(sql, params)
        written = int(cur.rowcount or 0)
        cur.execute("SELECT set_config('enable_mergejoin', %s, true)", [was])
        return written


def _python(org: Organization, d0: dt.date, d1: dt.date) -> int:
    """The reference: ``compute_load``'s cells of each branch, in minutes, as seconds: summed per day
    for each doctor and room, per hour over the doctors for the branch."""
    rows: list[CapacityFact] = []
    for branch in branch_list(org=org):
        data = compute_load(org=org, branch=branch, date_from=d0, date_to=d1)
        sums: dict[tuple[Any, ...], list[float]] = {}
        for i, cells in enumerate((data.available, data.booked)):
            for (kind, obj, day, hour), minutes in cells.items():
                if not d0 <= day <= d1:
                    continue
                keys = [(day, DAY, obj, None) if kind == "doctor" else (day, DAY, None, obj)]
                if kind == "doctor":
                    keys.append((day, hour, None, None))
                for key in keys:
                    sums.setdefault(key, [0.0, 0.0])[i] += minutes * 60
        rows += [
            CapacityFact(
                organization=org,
                branch_id=branch.pk,
                day=day,
                hour=hour,
                doctor_id=doctor,
                room_id=room,
                available_seconds=a,
                booked_seconds=b,
            )
            for (day, hour, doctor, room), (a, b) in sums.items()
        ]
    CapacityFact.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _pieces(d0: dt.date, d1: dt.date) -> list[tuple[dt.date, dt.date]]:
    """[d0, d1] as runs of at most ``CHUNK_DAYS`` (each statement's joins and sums in memory)."""
    out = []
    while d0 <= d1:
        out.append((d0, min(d1, d0 + dt.timedelta(days=CHUNK_DAYS - 1))))
        d0 = out[-1][1] + dt.timedelta(days=1)
    return out


def build_capacity_facts(
    org: Organization, days: Collection[dt.date] | None = None, *, sql: Any = None
) -> int:
    """The facts of every day of the data (``days`` None) or of these local days; rows written.
    ``sql`` (tests): force the set-based (True) or the Python (False) path."""
    span = None
    if days is None:
        span = data_span(org)
        if span is None:
            CapacityFact.objects.for_org(org).delete()
            return 0
        chunks = [span]
    else:
        chunks = runs(days)
    chunks = [piece for d0, d1 in chunks for piece in _pieces(d0, d1)]
    use_sql = connection.vendor == "postgresql" if sql is None else sql
    written = 0
    # every day: the windows computed once (or by the caller, the full rebuild), each chunk's copied
    staged = windows_staged(org, span) if use_sql and span is not None else nullcontext()
    with transaction.atomic(), staged:
        if days is None:
            CapacityFact.objects.for_org(org).delete()
        for d0, d1 in chunks:
            if days is not None:
                CapacityFact.objects.for_org(org).filter(day__gte=d0, day__lte=d1).delete()
            if use_sql:
                windows = STAGED if covered(org, d0, d1) else WINDOWS  # the staged ones read as they are
                if windows == WINDOWS:
                    stage_windows(org, d0, d1)
                # UTC bounds wide enough for every zone (an index range of a few days' appointments)
                lo = dt.datetime.combine(d0, dt.time.min, tzinfo=dt.UTC) - dt.timedelta(days=1)
                hi = dt.datetime.combine(d1, dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=2)
                written += _run(facts_sql(windows), {"org": org.pk, "d0": d0, "d1": d1, "lo": lo, "hi": hi})
            else:
                written += _python(org, d0, d1)
    return written
