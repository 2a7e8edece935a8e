"""The daily facts built by PostgreSQL: set-based ``INSERT ... SELECT ... GROUP BY`` statements that give
exactly the rows of the Python build (``facts.compute``, kept as the reference and the SQLite path).

Each figure's definition is the Python build's (``facts.py``, ``facts_more.py``); here it is written as
one grouped part per source (appointments, first visits, survey answers, load, calls, leads, patients),
the parts summed per branch and local day. A row's local day is its branch's (``facts.Clock``: the
zones of the active branches, UTC otherwise), passed to each statement as a ``VALUES`` list.

The patients' first visits (first booked, first happened) and their funnel flags are read once into a
temporary table, ``owner_firsts`` (``stage_firsts``): for every patient of the organisation by the full
rebuild (its chunks of days then join it), or only for the patients near the days being built."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import connection

from clinicflow.acquisition.attribution import REFUND
from clinicflow.acquisition.models import Call, CallStatus, Lead
from clinicflow.analytics.models import RevenueFact
from clinicflow.analytics.owner.facts_firsts import (
    ANSWER,
    APPT,
    BRANCHES,
    DAYS,
    FIRSTS,
    HAPPENED_IN,
    HOLDING_IN,
    PATIENT,
    PAY,
    VISITS,
    _day,
    _zones,
)
from clinicflow.analytics.owner.facts_load import WINDOWS, stage_windows
from clinicflow.analytics.owner.facts_more import COUNTS, FIRST_COUNTS, FUNNEL
from clinicflow.analytics.owner.facts_write import NEW_ROWS, UUID7, replace_rows
from clinicflow.analytics.owner.factsql import TUNED
from clinicflow.booking.models import AppointmentStatus
from clinicflow.core.models import Organization
from clinicflow.feedback.models import DETRACTOR_MAX, PROMOTER_MIN

CALL = Call._meta.db_table
LEAD = Lead._meta.db_table
REVENUE = RevenueFact._meta.db_table
REVENUE_COLS = ("branch_id", "day", "currency", "doctor_id", "service_id", '"first"', "amount", "payments")
HASHED_DAYS = 28  # spans at least this long: hash joins (whole tables read once)


def _part(counts: dict[str, str], source: str, day: str, branch: str = "x.branch_id") -> str:
    """One source's grouped counts as a row of every column (0 for the others)."""
    cols = ", ".join(f"{counts.get(name, '0')}::bigint AS {name}" for name in COUNTS)
    return f"SELECT {branch} AS branch_id, {day} AS day, {cols} FROM {source} GROUP BY 1, 2"  # noqa: S608 - names from model meta  # nosec B608


def _day_parts(first_counts_only: bool = False) -> list[str]:
    """The grouped parts of the day facts over the UTC window [%(start)s, %(end)s)."""
    appt_in = (
        f"{APPT} x LEFT JOIN zones z ON z.branch_id = x.branch_id WHERE x.organization_id = %(org)s "
        f"AND x.branch_id = ANY({BRANCHES}) AND x.start_at >= %(start)s AND x.start_at < %(end)s"
    )
    day = _day("x.start_at", "z")
    firsts = [
        _part(
            {
                "first_booked": "COUNT(*) FILTER (WHERE x.booked)",
                "first_arrived": "COUNT(*) FILTER (WHERE x.arrived)",
                **{flag: f"COUNT(*) FILTER (WHERE x.{flag})" for flag in FUNNEL},
            },
            f"{VISITS} x WHERE x.organization_id = %(org)s AND x.day BETWEEN %(d0)s AND %(d1)s",
            "x.day",
        )
    ]
    if first_counts_only:
        return firsts
    no_show, missed = str(AppointmentStatus.NO_SHOW), str(CallStatus.MISSED)

    def moments(table: str, col: str, extra: str = "") -> str:
        return (
            f"{table} x LEFT JOIN zones z ON z.branch_id = x.branch_id WHERE x.organization_id = %(org)s "
            f"AND x.{col} >= %(start)s AND x.{col} < %(end)s {extra}"
        )

    return [
        _part(
            {
                "appointments": "COUNT(*)",
                "no_shows": f"COUNT(*) FILTER (WHERE x.status = '{no_show}')",
                "happened": f"COUNT(*) FILTER (WHERE x.status IN {HAPPENED_IN})",
            },
            appt_in,
            day,
        ),
        *firsts,
        _part(
            {
                "answers": "COUNT(*)",
                "promoters": f"COUNT(*) FILTER (WHERE x.nps >= {int(PROMOTER_MIN)})",
                "detractors": f"COUNT(*) FILTER (WHERE x.nps <= {int(DETRACTOR_MAX)})",
            },
            moments(ANSWER, "answered_at"),
            _day("x.answered_at", "z"),
        ),
        _part(
            {
                "calls": "COUNT(*)",
                "unique_calls": "COUNT(*) FILTER (WHERE x.is_unique)",
                "missed_calls": f"COUNT(*) FILTER (WHERE x.status = '{missed}')",
            },
            moments(CALL, "started_at"),
            _day("x.started_at", "z"),
        ),
        _part({"leads": "COUNT(*)"}, moments(LEAD, "created_at"), _day("x.created_at", "z")),
        _part(
            {"new_patients": "COUNT(*)"},
            moments(PATIENT, "created_at", "AND x.merged_into_id IS NULL"),
            _day("x.created_at", "z"),
        ),
        _part(
            {"available_seconds": "ROUND(SUM(extract(epoch FROM x.we - x.ws)))"},
            f"{WINDOWS} x",
            "x.day",
        ),
        _part(
            {"booked_seconds": "ROUND(SUM(x.s))"},
            f"({_booked_sql()}) x",
            "x.day",
        ),
    ]


def _booked_sql() -> str:
    """The live appointments' seconds inside the working windows, per branch and local day (a row per
    appointment and window piece): an appointment meets the pieces of its start's local day (one hash
    join on branch, doctor and day), and one running past midnight those of its later days too."""
    live = (
        f"SELECT a.branch_id, a.doctor_id, a.start_at, a.end_at, {_day('a.start_at', 'z')} AS d0, "  # noqa: S608 - names from model meta  # nosec B608
        f"{_day('a.end_at', 'z')} AS d1 FROM {APPT} a JOIN zones z ON z.branch_id = a.branch_id "
        f"WHERE a.organization_id = %(org)s AND a.branch_id = ANY({BRANCHES}) "
        f"AND a.status IN {HOLDING_IN} AND a.start_at >= %(start)s AND a.start_at < %(end)s"
    )
    seconds = "extract(epoch FROM LEAST(a.end_at, x.we) - GREATEST(a.start_at, x.ws))"
    meets = (
        "x.branch_id = a.branch_id AND x.doctor_id = a.doctor_id AND a.start_at < x.we "
        "AND a.end_at > x.ws AND a.start_at >= x.lo AND a.start_at < x.hi"
    )
    return (
        f"WITH a AS MATERIALIZED ({live}) "  # noqa: S608 - names from model meta  # nosec B608
        f"SELECT x.branch_id, x.day, {seconds} AS s FROM a JOIN {WINDOWS} x ON x.day = a.d0 AND {meets} "
        f"UNION ALL SELECT x.branch_id, x.day, {seconds} FROM a "
        f"CROSS JOIN LATERAL generate_series(1, a.d1 - a.d0) AS g(k) "
        f"JOIN {WINDOWS} x ON x.day = a.d0 + g.k AND {meets} WHERE a.d1 > a.d0"
    )


def day_rows_sql(zones: str, first_counts_only: bool = False) -> str:
    """``WITH zones ... SELECT branch_id, day, <COUNTS>`` of the local days [%(d0)s, %(d1)s]: the parts
    summed per branch and day, the rows with any count."""
    names = FIRST_COUNTS if first_counts_only else COUNTS
    parts = "\nUNION ALL\n".join(_day_parts(first_counts_only))
    sums = ", ".join(f"SUM({n})::bigint AS {n}" for n in names)
    anything = " + ".join(f"SUM({n})" for n in names)
    return (
        f"WITH {zones}, parts AS ({parts}) SELECT branch_id, day, {sums} FROM parts "  # noqa: S608 - names from model meta  # nosec B608
        f"WHERE day BETWEEN %(d0)s AND %(d1)s GROUP BY branch_id, day HAVING {anything} > 0"
    )


def revenue_rows_sql(zones: str) -> str:
    """``WITH zones ... SELECT`` the revenue facts of the local days [%(d0)s, %(d1)s]."""
    day = _day("p.paid_at", "z")
    first = f"COALESCE({_day('a.start_at', 'z')} = {_day('f.arrived_at', 'z')}, false)"  # a null: not first
    return f"""
    WITH {zones}
    SELECT p.branch_id, {day} AS day, p.currency, a.doctor_id, a.service_id, {first} AS first,
      SUM(CASE WHEN p.kind = '{REFUND}' THEN -p.amount ELSE p.amount END) AS amount, COUNT(*) AS payments
    FROM {PAY} p LEFT JOIN zones z ON z.branch_id = p.branch_id
      LEFT JOIN {APPT} a ON a.id = p.appointment_id
      LEFT JOIN {FIRSTS} f ON f.patient_id = p.patient_id
    WHERE p.organization_id = %(org)s AND p.paid_at >= %(start)s AND p.paid_at < %(end)s
      AND {day} BETWEEN %(d0)s AND %(d1)s
    GROUP BY 1, 2, 3, 4, 5, 6
    """  # nosec B608 # noqa: S608 - names from model meta


def insert_days(
    org: Organization,
    zones: dict[uuid.UUID, Any],
    d0: dt.date,
    d1: dt.date,
    start: dt.datetime,
    end: dt.datetime,
) -> tuple[int, int]:
    """Delete the facts of the local days ``d0``..``d1`` and insert them from the raw tables (in the
    caller's transaction; ``owner_firsts`` staged); returns (day facts, revenue facts) written. A span
    of ``HASHED_DAYS`` or more (the full rebuild's chunks) is joined by hashing each table in one pass,
    and only its rows that changed are written (``facts_write.replace_rows``: the counts of the facts
    are returned all the same); a shorter one (the incremental update) by the indexes (a payment's
    appointment by its key), so its cost follows the day's rows, not the tables'."""
    hashed = (d1 - d0).days + 1 >= HASHED_DAYS
    stage_windows(org, d0, d1)
    zsql, zparams = _zones(zones)
    args = {**zparams, "org": org.pk, "start": start, "end": end, "d0": d0, "d1": d1}
    cols = ", ".join(COUNTS)
    with connection.cursor() as cur:
        cur.execute(TUNED)  # in the caller's transaction
        if hashed:  # every join an equality: hashed in one pass; only the rows that changed written
            cur.execute("SET LOCAL enable_nestloop = off")
            cur.execute("SET LOCAL enable_mergejoin = off")  # nor sorted: each join and grouping hashed
            cur.execute("SET LOCAL enable_sort = off")  # (the estimates of the joins' rows are far too low)
            scope = "{a}.organization_id = %(org)s AND {a}.day BETWEEN %(d0)s AND %(d1)s"
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            cur.execute(f"CREATE TEMPORARY TABLE {NEW_ROWS} AS {day_rows_sql(zsql)}", args)
            days = replace_rows(DAYS, ("branch_id", "day", *COUNTS), ("branch_id",), scope, args)
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            cur.execute(f"CREATE TEMPORARY TABLE {NEW_ROWS} AS {revenue_rows_sql(zsql)}", args)
            revenue = replace_rows(
                REVENUE, REVENUE_COLS, ("branch_id", "doctor_id", "service_id"), scope, args
            )
            cur.execute("SET LOCAL enable_nestloop = on")  # the caller's next statements planned freely
            cur.execute("SET LOCAL enable_mergejoin = on")
            cur.execute("SET LOCAL enable_sort = on")
            return days, revenue
        delete = f"DELETE FROM {DAYS} WHERE organization_id = %(org)s AND day BETWEEN %(d0)s AND %(d1)s"  # noqa: S608 - names from model meta  # nosec B608
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(delete, args)
        delete = f"DELETE FROM {REVENUE} WHERE organization_id = %(org)s AND day BETWEEN %(d0)s AND %(d1)s"  # noqa: S608 - names from model meta  # nosec B608
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(delete, args)
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"INSERT INTO {DAYS} (id, organization_id, branch_id, day, {cols}) "  # noqa: S608 - names from model meta  # nosec B608
            f"SELECT {UUID7}, %(org)s, branch_id, day, {cols} FROM ({day_rows_sql(zsql)}) t",
            args,
        )
        days = cur.rowcount
        names = ", ".join(REVENUE_COLS)
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"INSERT INTO {REVENUE} (id, organization_id, {names}) SELECT {UUID7}, %(org)s, {names} "  # noqa: S608 - names from model meta  # nosec B608
            f"FROM ({revenue_rows_sql(zsql)}) t",
            args,
        )
        return days, cur.rowcount


def first_count_rows(
    org: Organization,
    zones: dict[uuid.UUID, Any],
    d0: dt.date,
    d1: dt.date,
    start: dt.datetime,
    end: dt.datetime,
) -> list[tuple[Any, ...]]:
    """(branch, day, *FIRST_COUNTS) of the local days ``d0``..``d1`` (``owner_firsts`` staged)."""
    zsql, zparams = _zones(zones)
    args = {**zparams, "org": org.pk, "start": start, "end": end, "d0": d0, "d1": d1}
    with connection.cursor() as cur:
        cur.execute(day_rows_sql(zsql, first_counts_only=True), args)
        return list(cur.fetchall())
