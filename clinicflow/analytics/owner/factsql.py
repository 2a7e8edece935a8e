"""Portable SQL pieces of the set-based fact builds (``channel_facts``, ``cohort_facts``): a timestamp's
local day on a zone held in a column, a date's month number and a birthday's age band, a new row id,
and the ``WHERE`` of a set of days. PostgreSQL and SQLite (Django's own SQLite functions convert zones,
as ``TruncDate(tzinfo=)`` does)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from clinicflow.core.models import Branch, Organization

CHUNK = 500  # days per ``IN`` list
WORK_MEM = "256MB"  # the grouping and hashing of a fact statement in memory (one statement at a time)
# a fact statement's settings on PostgreSQL, for the rest of the transaction: JIT compilation off (it
# cost 1-2 s per statement, more than the statements themselves, and grows with their estimated
# cost, not with the rows), the statement's sorts and hashes in memory
TUNED = f"SELECT set_config('jit', 'off', true), set_config('work_mem', '{WORK_MEM}', true)"
EVER = (dt.datetime(1900, 1, 1, tzinfo=dt.UTC), dt.datetime(2200, 1, 1, tzinfo=dt.UTC))


def qs_sql(qs: QuerySet[Any, Any]) -> tuple[str, tuple[Any, ...]]:
    sql, params = qs.query.sql_with_params()
    return sql, tuple(params)


def _pg() -> bool:
    return connection.vendor == "postgresql"


def local_date(ts: str, tz: str) -> str:
    """The calendar day of the timestamp ``ts`` on the zone named by the column ``tz``."""
    if _pg():
        return f"CAST(({ts} AT TIME ZONE {tz}) AS DATE)"
    return f"django_datetime_cast_date({ts}, {tz}, 'UTC')"


def _year(d: str) -> str:
    return f"CAST(EXTRACT(YEAR FROM {d}) AS INTEGER)" if _pg() else f"CAST(strftime('%%Y', {d}) AS INTEGER)"


def _month(d: str) -> str:
    return f"CAST(EXTRACT(MONTH FROM {d}) AS INTEGER)" if _pg() else f"CAST(strftime('%%m', {d}) AS INTEGER)"


def _month_day(d: str) -> str:
    if _pg():
        return f"CAST(EXTRACT(MONTH FROM {d}) * 100 + EXTRACT(DAY FROM {d}) AS INTEGER)"
    return f"CAST(strftime('%%m%%d', {d}) AS INTEGER)"


def month_number(d: str) -> str:
    """year × 12 + month − 1 of the date ``d`` (``grouped._month``)."""
    return f"({_year(d)} * 12 + {_month(d)} - 1)"


def age_band(born: str, day: str, bands: Sequence[tuple[int, str]], unknown: str) -> str:
    """The age band (``profile.band_of``: ``bands`` its lowest ages) of a birth date on a day."""
    age = (
        f"({_year(day)} - {_year(born)} - CASE WHEN {_month_day(day)} < {_month_day(born)} THEN 1 ELSE 0 END)"
    )
    whens = " ".join(f"WHEN {age} >= {low} THEN '{name}'" for low, name in reversed(bands))
    return f"CASE WHEN {born} IS NULL OR {born} > {day} THEN '{unknown}' {whens} ELSE '{unknown}' END"


def new_id() -> str:
    """A new UUID primary key in SQL (the facts' ids are never referred to)."""
    return "gen_random_uuid()" if _pg() else "lower(hex(randomblob(16)))"


def zones_sql(org: Organization) -> tuple[str, tuple[Any, ...]]:
    """SQL of the organisation's branches: ``id``, ``tz`` (zone name), ``org`` (organisation id)."""
    qs = Branch.objects.filter(organization=org).order_by().values("id", "timezone", "organization_id")
    sql, params = qs_sql(qs)
    return f"SELECT z.id AS id, z.timezone AS tz, z.organization_id AS org FROM ({sql}) z", params  # nosec B608 # noqa: S608 - ORM SQL


def runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) runs."""
    out: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if out and out[-1][1] + dt.timedelta(days=1) == day:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def near(field: str, days: Iterable[dt.date]) -> Q:
    """Moments that can fall on one of ``days`` in some zone (each run widened by a day each side)."""
    q = Q()
    for d0, d1 in runs(days):
        start = dt.datetime.combine(d0, dt.time.min, tzinfo=dt.UTC) - dt.timedelta(days=1)
        end = dt.datetime.combine(d1, dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=2)
        q |= Q(**{f"{field}__gte": start, f"{field}__lt": end})
    return q


def bounds(days: Sequence[dt.date] | None) -> tuple[dt.datetime, dt.datetime]:
    """UTC bounds covering every zone's local ``days`` (all time without days)."""
    if days is None:
        return EVER
    start = dt.datetime.combine(min(days), dt.time.min, tzinfo=dt.UTC) - dt.timedelta(days=1)
    return start, dt.datetime.combine(max(days), dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=2)


def day_chunks(days: Sequence[dt.date] | None) -> list[list[dt.date] | None]:
    """The days in chunks for ``IN`` lists (one ``None``: every day)."""
    if days is None:
        return [None]
    ordered = sorted(days)
    return [ordered[i : i + CHUNK] for i in range(0, len(ordered), CHUNK)]


@dataclass(frozen=True)
class Cells:
    """Some (branch, local day) cells of the facts (PostgreSQL): the incremental update's scope where a
    change touches a patient's first visit — only that branch's day of first patients is built again,
    not every branch's (a chain's day of events reaches the first-visit days of most of its history)."""

    pairs: tuple[tuple[uuid.UUID, dt.date], ...]

    def days(self) -> list[dt.date]:
        return sorted({d for _b, d in self.pairs})

    def arrays(self) -> tuple[list[uuid.UUID], list[dt.date]]:
        return [b for b, _d in self.pairs], [d for _b, d in self.pairs]


Scope = list[dt.date] | Cells | None  # every day (None), some days, some cells


def scope_days(scope: Scope) -> list[dt.date] | None:
    return scope.days() if isinstance(scope, Cells) else scope


def scope_filter(branch: str, day: str, scope: Scope) -> tuple[str, tuple[Any, ...]]:
    """``AND ...`` of the scope's rows: their day in the days, or (branch, day) in the cells."""
    if isinstance(scope, Cells):
        cells = f" AND ({branch}, {day}) IN (SELECT * FROM unnest(%s::uuid[], %s::date[]))"  # noqa: S608 - column names of the caller's statement, values bound  # nosec B608
        return cells, scope.arrays()
    return day_filter(day, scope)


def cells_delete(models: Iterable[Any], org: Organization, cells: Cells) -> None:
    """Delete the facts of these cells from each model's table (by its (organisation, day, branch)
    index)."""
    with connection.cursor() as cur:
        for model in models:
            table = model._meta.db_table
            cur.execute(
                # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
                f"DELETE FROM {table} t USING unnest(%s::uuid[], %s::date[]) AS c(b, d) "  # noqa: S608 - names from model meta  # nosec B608
                "WHERE t.organization_id = %s AND t.branch_id = c.b AND t.day = c.d",
                [*cells.arrays(), org.pk],
            )


def cell_patients(org: Organization, cells: Cells, table: str) -> list[uuid.UUID]:
    """The patients whose first visits (``FirstVisitFact``, current, in ``table``) are in the cells."""
    with connection.cursor() as cur:
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"SELECT DISTINCT v.patient_id FROM {table} v JOIN unnest(%s::uuid[], %s::date[]) AS c(b, d) "  # noqa: S608 - names from model meta  # nosec B608
            "ON v.branch_id = c.b AND v.day = c.d WHERE v.organization_id = %s",
            [*cells.arrays(), org.pk],
        )
        return [r[0] for r in cur.fetchall()]


def day_filter(column: str, days: list[dt.date] | None) -> tuple[str, tuple[Any, ...]]:
    """``AND column IN (...)`` for the days (nothing for every day)."""
    if days is None:
        return "", ()
    marks = ", ".join(["%s"] * len(days))
    return f" AND {column} IN ({marks})", tuple(connection.ops.adapt_datefield_value(d) for d in days)


def tune() -> None:
    """On PostgreSQL, for the rest of the transaction: the fact statements' settings (``TUNED``)."""
    if _pg():
        with connection.cursor() as cur:
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            cur.execute(TUNED)


def execute(sql: str, params: Sequence[Any]) -> int:
    """Run one write statement (on PostgreSQL without nested loops, as ``sqlplan.fetch_all``)."""
    with connection.cursor() as cur:
        if _pg():
            cur.execute("SET LOCAL enable_nestloop = off")
        # nosemgrep: sql-built-from-strings — SQL of ORM querysets and constants, values bound
        cur.execute(sql, params)
        n = cur.rowcount
        if _pg():
            cur.execute("SET LOCAL enable_nestloop = on")
        return int(n or 0)
