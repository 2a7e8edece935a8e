"""Build the capacity load facts (``CapacityFact``, issue #17): per branch, local day, local hour and
doctor or room, the available and booked seconds of the capacity report (``capacity.compute_load``: the
doctors' working windows, a room open while any doctor works at its branch and it is not closed, the
live appointments inside them). One definition: on SQLite (and as the reference) the facts are that
function's cells; on PostgreSQL one statement builds them from the working windows staged by
``facts_load`` (the same windows as the day facts' available seconds), PostgreSQL's multiranges
being ``availability.merge``/``subtract``. Hours are cut on the branch's wall clock (an hour that a
change of offset shortens or lengthens is counted as the report counts it only outside working hours:
working windows across the night of a change are not cut the same way; none in practice).

Called by the full rebuild and the incremental update (``fact_hooks.build_owner_facts``) with the days
they build again; the report reads the sums (``reports.capacity_read``). Besides the hours, one row per
branch, day and doctor or room holds the day's sums (``hour`` = ``DAY``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from django.db import connection, transaction

from clinicflow.analytics.owner.capload_models import DAY, CapacityFact
from clinicflow.analytics.owner.facts_load import BRANCH, EXCEPTIONS, WINDOWS, _local, stage_windows
from clinicflow.analytics.owner.facts_span import data_span, runs
from clinicflow.analytics.owner.factsql import new_id, tune
from clinicflow.analytics.reports.capacity import compute_load
from clinicflow.booking.models import HOLDING_STATUSES, Appointment, Room
from clinicflow.core.models import Organization
from clinicflow.core.selectors import branch_list

TABLE = CapacityFact._meta.db_table
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


def facts_sql() -> str:
    """``INSERT`` the facts of the local days [%(d0)s, %(d1)s] from ``owner_windows``."""
    day0, day1 = _local("e.date::timestamp", "br.tz"), _local("(e.date + 1)::timestamp", "br.tz")
    t0, t1 = _local("e.date + e.start_time", "br.tz"), _local("e.date + e.end_time", "br.tz")
    closed = (
        f"CASE WHEN e.start_time IS NULL OR e.end_time IS NULL THEN tstzrange({day0}, {day1}) "
        f"ELSE tstzrange({t0}, {t1}) END"
    )
    return f"""
    INSERT INTO {TABLE} (id, organization_id, branch_id, day, hour, doctor_id, room_id, available_seconds,
      booked_seconds)
    WITH br AS (
      SELECT id AS branch_id, timezone AS tz FROM {BRANCH} WHERE organization_id = %(org)s AND is_active
    ), bounds AS (
      SELECT branch_id, MIN(lo) AS lo, MAX(hi) AS hi FROM {WINDOWS} GROUP BY branch_id
    ), opened AS (
      SELECT branch_id, day, range_agg(tstzrange(ws, we)) AS m FROM {WINDOWS} GROUP BY branch_id, day
    ), closures AS (
      SELECT e.room_id, e.date AS day, range_agg({closed}) AS m FROM {EXCEPTIONS} e
      JOIN {ROOM} r ON r.id = e.room_id JOIN br ON br.branch_id = r.branch_id
      WHERE e.organization_id = %(org)s AND e.kind = 'closed' AND e.date BETWEEN %(d0)s AND %(d1)s
        AND (e.start_time IS NULL OR e.end_time IS NULL OR e.end_time >= e.start_time)
      GROUP BY e.room_id, e.date
    ), units AS (
      SELECT branch_id, day, doctor_id, NULL::uuid AS room_id, tstzrange(ws, we) AS r FROM {WINDOWS}
      UNION ALL
      SELECT r.branch_id, o.day, NULL::uuid, r.id, unnest(o.m - COALESCE(c.m, '{{}}'::tstzmultirange))
      FROM {ROOM} r JOIN opened o ON o.branch_id = r.branch_id
      LEFT JOIN closures c ON c.room_id = r.id AND c.day = o.day
      WHERE r.organization_id = %(org)s AND r.is_active
    ), appts AS (
      SELECT a.branch_id, a.doctor_id, a.room_id, tstzrange(a.start_at, a.end_at) AS ar, g.d::date AS day
      FROM {APPT} a JOIN bounds b ON b.branch_id = a.branch_id JOIN br ON br.branch_id = a.branch_id
      CROSS JOIN LATERAL generate_series((a.start_at AT TIME ZONE br.tz)::date,
        (a.end_at AT TIME ZONE br.tz)::date, interval '1 day') AS g(d)
      WHERE a.organization_id = %(org)s AND a.status IN {HOLDING_IN} AND a.start_at >= b.lo
        AND a.start_at < b.hi AND a.end_at > a.start_at
    ), parts AS (
      SELECT u.branch_id, u.doctor_id, u.room_id, u.r AS p, true AS avail FROM units u
      UNION ALL
      SELECT u.branch_id, u.doctor_id, NULL, u.r * a.ar, false FROM appts a JOIN units u
        ON u.branch_id = a.branch_id AND u.day = a.day AND u.doctor_id = a.doctor_id AND u.r && a.ar
      UNION ALL
      SELECT u.branch_id, NULL, u.room_id, u.r * a.ar, false FROM appts a JOIN units u
        ON u.branch_id = a.branch_id AND u.day = a.day AND u.room_id = a.room_id AND u.r && a.ar
    )
    SELECT {new_id()}, %(org)s, p.branch_id, g.h::date, COALESCE(extract(hour FROM g.h)::int, {DAY}),
      p.doctor_id, p.room_id, COALESCE(SUM(s.sec) FILTER (WHERE p.avail), 0),
      COALESCE(SUM(s.sec) FILTER (WHERE NOT p.avail), 0)
    FROM parts p JOIN br ON br.branch_id = p.branch_id {_hours("p.p", "br.tz")}
    WHERE NOT isempty(p.p) AND s.sec > 0 AND g.h::date BETWEEN %(d0)s AND %(d1)s
    GROUP BY GROUPING SETS ((p.branch_id, g.h::date, extract(hour FROM g.h)::int, p.doctor_id, p.room_id),
      (p.branch_id, g.h::date, p.doctor_id, p.room_id))
    """  # nosec B608 # noqa: S608 - names from model meta, values bound


def _run(sql: str, params: dict[str, Any]) -> int:
    tune()
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(sql, params)
        return int(cur.rowcount or 0)


def _python(org: Organization, d0: dt.date, d1: dt.date) -> int:
    """The reference: ``compute_load``'s cells of each branch, in minutes, as seconds."""
    rows: list[CapacityFact] = []
    for branch in branch_list(org=org):
        data = compute_load(org=org, branch=branch, date_from=d0, date_to=d1)
        keys = {k for k in (*data.available, *data.booked) if d0 <= k[2] <= d1}
        for key in keys:
            kind, obj, day, hour = key
            rows.append(
                CapacityFact(
                    organization=org,
                    branch_id=branch.pk,
                    day=day,
                    hour=hour,
                    doctor_id=obj if kind == "doctor" else None,
                    room_id=obj if kind == "room" else None,
                    available_seconds=data.available.get(key, 0.0) * 60,
                    booked_seconds=data.booked.get(key, 0.0) * 60,
                )
            )
    per_day: dict[tuple[Any, ...], list[float]] = {}
    for r in rows:
        sums = per_day.setdefault((r.branch_id, r.day, r.doctor_id, r.room_id), [0.0, 0.0])
        sums[0] += r.available_seconds
        sums[1] += r.booked_seconds
    rows += [
        CapacityFact(
            organization=org,
            branch_id=b,
            day=day,
            hour=DAY,
            doctor_id=doc,
            room_id=room,
            available_seconds=a,
            booked_seconds=bk,
        )
        for (b, day, doc, room), (a, bk) in per_day.items()
    ]
    CapacityFact.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def build_capacity_facts(
    org: Organization, days: Collection[dt.date] | None = None, *, sql: Any = None
) -> int:
    """The facts of every day of the data (``days`` None) or of these local days; rows written.
    ``sql`` (tests): force the set-based (True) or the Python (False) path."""
    if days is None:
        span = data_span(org)
        if span is None:
            CapacityFact.objects.for_org(org).delete()
            return 0
        chunks = [span]
    else:
        chunks = runs(days)
    use_sql = connection.vendor == "postgresql" if sql is None else sql
    written = 0
    with transaction.atomic():
        if days is None:
            CapacityFact.objects.for_org(org).delete()
        for d0, d1 in chunks:
            if days is not None:
                CapacityFact.objects.for_org(org).filter(day__gte=d0, day__lte=d1).delete()
            if use_sql:
                stage_windows(org, d0, d1)
                written += _run(facts_sql(), {"org": org.pk, "d0": d0, "d1": d1})
            else:
                written += _python(org, d0, d1)
    return written
