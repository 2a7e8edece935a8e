"""The front desk's daily facts (issue #17): per organisation, branch, local day and administrator, the
administrators report's counts (``reports.acquisition.administrators``) — unique calls handled, of
those the callers who booked a first visit at or after the call and who arrived at one, and the call
scores' count and sum (tenths, exact) — so the report and the scorecards' front-desk part read a few
rows a branch-day instead of every call with a probe into the caller's appointments.

The rules are the report's own: its calls (unique, with an administrator), its first visits
(``first_patients.first_visit_times``: the caller's earliest appointment of any status, and earliest
one that happened). A row keeps both the branch's local day (``day``: a branch's report reads its local
days) and the UTC day (``utc_day``: the chain's report reads UTC days, ``base.period_bounds``); a call
with no branch is on its UTC day with ``branch`` null.

Built set-based by one ``INSERT ... SELECT ... GROUP BY`` (PostgreSQL and SQLite) for every day (the
full rebuild, ``fact_hooks``) or some local days (the incremental update, ``changes``): those days and,
for the changed patients, the days of their calls (a first visit booked, moved or cancelled flips the
booked / arrived flag of the patient's earlier calls)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Iterable

from django.db import connection, transaction
from django.db.models import BigIntegerField, F
from django.db.models.functions import Cast, Round

from clinicflow.analytics.owner.admin_models import AdminDayFact
from clinicflow.analytics.owner.fact_clear import clear, row_id
from clinicflow.analytics.owner.facts_firsts import FIRSTS, staged_for_all
from clinicflow.analytics.owner.factsql import (
    day_chunks,
    day_filter,
    execute,
    local_date,
    near,
    qs_sql,
    tune,
)
from clinicflow.analytics.reports.acquisition.administrators import admin_calls
from clinicflow.analytics.reports.acquisition.first_patients import first_visit_times
from clinicflow.core.models import Branch, Organization


def _insert(org: Organization, days: list[dt.date] | None) -> int:
    calls = admin_calls(org).order_by()
    if days is not None:
        calls = calls.filter(near("started_at", days))
    times = first_visit_times(org=org)
    if days is not None:  # only the callers' first visits, read by the index on their appointments
        callers = list(calls.filter(patient__isnull=False).values_list("patient_id", flat=True).distinct())
        # (a list, not a subquery: the statement hashes its joins and would read every appointment)
        times = times.filter(patient_id__in=callers) if callers else times.filter(patient_id__isnull=True)
    calls_sql, calls_params = qs_sql(
        calls.values(
            "branch_id",
            "started_at",
            "administrator_id",
            "patient_id",
            "score",
            tenths=Cast(Round(F("score") * 10), BigIntegerField()),
        )
    )
    firsts_sql, firsts_params = qs_sql(times)
    if days is None and staged_for_all(org):  # the full rebuild read every patient's first visits
        firsts_sql, firsts_params = f"SELECT patient_id, booked_at, arrived_at FROM {FIRSTS}", ()  # nosec B608 # noqa: S608 - a constant name
    zones_sql, zones_params = qs_sql(
        Branch.objects.filter(organization=org).order_by().values("id", "timezone")
    )
    where, where_params = day_filter("x.day", days)
    table = AdminDayFact._meta.db_table
    local_day = local_date("c.started_at", "COALESCE(zb.timezone, 'UTC')")
    utc_day = local_date("c.started_at", "'UTC'")
    sql = (
        f"INSERT INTO {table} (id, organization_id, branch_id, day, utc_day, administrator_id, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        "unique_calls, booked, arrived, scored, score_tenths) "
        f"WITH c AS ({calls_sql}), f AS ({firsts_sql}), zb AS ({zones_sql}), "
        f"x AS (SELECT c.branch_id AS b, {local_day} AS day, {utc_day} AS utc_day, c.administrator_id AS a, "
        "CASE WHEN c.patient_id IS NOT NULL AND f.booked_at >= c.started_at THEN 1 ELSE 0 END AS bk, "
        "CASE WHEN c.patient_id IS NOT NULL AND f.arrived_at >= c.started_at THEN 1 ELSE 0 END AS ar, "
        "CASE WHEN c.score IS NULL THEN 0 ELSE 1 END AS sc, c.tenths "
        "FROM c LEFT JOIN zb ON zb.id = c.branch_id LEFT JOIN f ON f.patient_id = c.patient_id) "
        f"SELECT {row_id()}, %s, x.b, x.day, x.utc_day, x.a, COUNT(*), SUM(x.bk), SUM(x.ar), SUM(x.sc), "
        f"COALESCE(SUM(x.tenths), 0) FROM x WHERE 1 = 1{where} GROUP BY x.b, x.day, x.utc_day, x.a "
        "ORDER BY x.day, x.b"  # the (organisation, day, branch) index written in its order
    )
    org_id = Organization._meta.pk.get_db_prep_value(org.pk, connection)
    params = calls_params + firsts_params + zones_params + (org_id,) + where_params
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    return execute(sql, params)


def call_days(org: Organization, patients: Iterable[uuid.UUID | None]) -> set[dt.date]:
    """The local days of these patients' calls (the report's calls), whose flags follow their first
    visits."""
    ids = [p for p in set(patients) if p is not None]
    if not ids:
        return set()
    zones = {b.pk: b.tz for b in Branch.objects.filter(organization=org)}
    rows = admin_calls(org).filter(patient_id__in=ids).values_list("branch_id", "started_at")
    return {at.astimezone(zones.get(b, dt.UTC) if b is not None else dt.UTC).date() for b, at in rows}


def build_admin_facts(
    org: Organization,
    days: Collection[dt.date] | None = None,
    patients: Iterable[uuid.UUID | None] = (),
) -> int:
    """The facts of every day (``days`` None: the full rebuild) or of these local days and the days of
    these (changed) patients' calls, deleted and written again; returns the rows written."""
    if days is not None:
        days = set(days) | call_days(org, patients)
        if not days:
            return 0
    written = 0
    with transaction.atomic():
        tune()  # the grouping in memory, no JIT compilation (``factsql.TUNED``)
        for chunk in day_chunks(sorted(days) if days is not None else None):
            if chunk is None:  # every day: the organisation's rows (``fact_clear.clear``)
                clear(org, AdminDayFact)
            else:
                AdminDayFact.objects.for_org(org).filter(day__in=chunk).delete()
            written += _insert(org, chunk)
    return written
