"""The cohort facts of the incremental update's events (PostgreSQL, ``fact_events``): a first patient's
later visit or payment changed, their first visit's cell did not.

- ``CohortFact``: the cell's rows of the events' months (``cohort + k``) but the members' count, from
  the cell's members with a visit that happened or a payment in those months.
- ``FirstDoctorFact`` (each doctor's first patients to date): the rows of the changed patients' cells
  and doctors of their first visit, from that doctor's first patients of the cell (a few: found by
  the doctor's visits that happened at the branch on the cell's day, through the (doctor, start)
  index). A doctor of a changed patient's visits that day stands for the first visit's: the
  rows of a pair are rebuilt from all its first patients, so a pair more is only work."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from clinicflow.analytics.models import CohortFact, FirstDoctorFact
from clinicflow.analytics.owner.cohort_facts import (
    STAGE,
    drop_cohort_stage,
    insert_cohorts,
    insert_doctors,
)
from clinicflow.analytics.owner.fact_events import CellEvents, by_index, event_members, serial
from clinicflow.analytics.owner.facts_firsts import HAPPENED_IN
from clinicflow.analytics.owner.factsql import Cells, month_number, tune, zones_sql
from clinicflow.analytics.owner.first_models import FirstVisitFact
from clinicflow.analytics.reports.sqlplan import IdArray, id_array
from clinicflow.booking.models import Appointment
from clinicflow.core.models import Organization

PAIRS = "owner_doctor_pairs"  # (b, d, doctor): the cells and doctors whose rows are built again
APPT = Appointment._meta.db_table
VISITS = FirstVisitFact._meta.db_table


def _temp(cur: Any, name: str, select: str, params: list[Any]) -> None:
    """(Re)create the temporary table ``name`` as ``select`` and give the planner its statistics."""
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    cur.execute(f"DROP TABLE IF EXISTS {name}")  # nosec B608
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    cur.execute(f"CREATE TEMPORARY TABLE {name} AS {select}", params)  # nosec B608
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    cur.execute(f"ANALYZE {name}")  # nosec B608


def _months_delete(org: Organization, events: CellEvents) -> None:
    """The rows of the events' (branch, cell day, month) triples but the members' counts."""
    with connection.cursor() as cur:
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"DELETE FROM {CohortFact._meta.db_table} t "  # noqa: S608 - names from model meta  # nosec B608
            "USING unnest(%s::uuid[], %s::date[], %s::int[]) AS e(b, d, m) WHERE t.organization_id = %s "
            "AND t.branch_id = e.b AND t.day = e.d AND t.cohort + t.k = e.m "
            "AND (t.k <> 0 OR t.currency <> '')",
            [*events.month_arrays(), org.pk],
        )


def _pairs(org: Organization, events: CellEvents) -> list[object]:
    """Stage ``PAIRS`` (the changed patients' doctors of their cells' day) and return the candidates:
    the cells' first patients with a visit that happened with such a doctor at the branch that day."""
    zb, zb_params = zones_sql(org)
    rows = sorted({(p, b, d) for p, b, d in events.members}, key=str)
    with connection.cursor() as cur:
        _temp(
            cur,
            PAIRS,
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"WITH zb AS ({zb}), "  # noqa: S608 - names from model meta  # nosec B608
            "e AS (SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::date[]) AS e(p, b, d)) "
            "SELECT DISTINCT a.branch_id AS b, e.d, a.doctor_id AS doctor, zb.tz FROM e "
            f"JOIN {APPT} a ON a.organization_id = %s AND a.patient_id = e.p AND a.branch_id = e.b "
            f"AND a.status IN {HAPPENED_IN} AND a.start_at >= (e.d - 1)::timestamp AT TIME ZONE 'UTC' "
            "AND a.start_at < (e.d + 2)::timestamp AT TIME ZONE 'UTC' "
            "JOIN zb ON zb.id = a.branch_id WHERE (a.start_at AT TIME ZONE zb.tz)::date = e.d",
            [
                *zb_params,
                [p for p, _b, _d in rows],
                [b for _p, b, _d in rows],
                [d for _p, _b, d in rows],
                org.pk,
            ],
        )
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"SELECT DISTINCT a.patient_id FROM {PAIRS} x JOIN {APPT} a ON a.organization_id = %s "  # noqa: S608 - names from model meta  # nosec B608
            "AND a.doctor_id = x.doctor AND a.start_at >= x.d::timestamp AT TIME ZONE x.tz "
            "AND a.start_at < (x.d + 1)::timestamp AT TIME ZONE x.tz "
            f"AND a.branch_id = x.b AND a.status IN {HAPPENED_IN}",
            [org.pk],
        )
        candidates = [r[0] for r in cur.fetchall()]
        cur.execute(  # those who are first patients of the cells (by the index on the patients)
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"SELECT DISTINCT v.patient_id FROM {VISITS} v WHERE v.organization_id = %s AND v.arrived "  # noqa: S608 - names from model meta  # nosec B608
            f"AND v.patient_id = ANY(%s::uuid[]) AND (v.branch_id, v.day) IN (SELECT b, d FROM {PAIRS})",
            [org.pk, id_array(candidates)],
        )
        return [r[0] for r in cur.fetchall()]


def _doctor_events(org: Organization, events: CellEvents) -> int:
    candidates = _pairs(org, events)
    with connection.cursor() as cur:
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"DELETE FROM {FirstDoctorFact._meta.db_table} t USING {PAIRS} x "  # noqa: S608 - names from model meta  # nosec B608
            "WHERE t.organization_id = %s AND t.branch_id = x.b AND t.day = x.d AND t.doctor_id = x.doctor",
            [org.pk],
        )
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"SELECT DISTINCT b, d FROM {PAIRS}")  # nosec B608 # noqa: S608 - a constant name
        cells = Cells(pairs=tuple(sorted(((b, d) for b, d in cur.fetchall()), key=str)))
    written = 0
    if candidates and cells.pairs:
        ids = IdArray(tuple(candidates))  # type: ignore[arg-type]
        _stage_doctor_members(org, ids)
        try:
            written = insert_doctors(org, ids, PAIRS)
        finally:
            drop_cohort_stage()
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"DROP TABLE IF EXISTS {PAIRS}")  # nosec B608
    return written


def _stage_doctor_members(org: Organization, candidates: IdArray) -> None:
    """``cohort_facts.STAGE`` of the candidates who are first patients of the pairs' cells (their
    ``FirstVisitFact`` rows), the columns the first-doctor rows read (``insert_doctors``): the doctor of
    their first visit — the least id at their first visit that happened at the branch on that day, the
    first of the day there (a first patient of the cell has no visit that happened before it) — and
    their visits that happened."""
    zb, zb_params = zones_sql(org)
    ids = id_array(candidates.ids)
    day = "a.start_at >= m.day::timestamp AT TIME ZONE zb.tz "
    day += "AND a.start_at < (m.day + 1)::timestamp AT TIME ZONE zb.tz"
    with connection.cursor() as cur:
        _temp(
            cur,
            STAGE,
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"WITH zb AS ({zb}), "  # noqa: S608 - names from model meta  # nosec B608
            f"m AS (SELECT DISTINCT v.patient_id AS p, v.branch_id AS b, v.day FROM {VISITS} v "
            f"JOIN (SELECT DISTINCT b, d FROM {PAIRS}) c ON v.branch_id = c.b AND v.day = c.d "
            "WHERE v.organization_id = %s AND v.arrived AND v.patient_id = ANY(%s::uuid[])), "
            "f AS (SELECT DISTINCT ON (m.p, m.b) m.p, m.b, m.day, a.doctor_id AS doctor FROM m "
            f"JOIN zb ON zb.id = m.b JOIN {APPT} a ON a.organization_id = %s AND a.patient_id = m.p "
            f"AND a.branch_id = m.b AND a.status IN {HAPPENED_IN} AND {day} "
            "ORDER BY m.p, m.b, a.start_at, a.doctor_id), "
            f"n AS (SELECT a.patient_id AS p, COUNT(*) AS n FROM {APPT} a WHERE a.organization_id = %s "
            f"AND a.patient_id = ANY(%s::uuid[]) AND a.status IN {HAPPENED_IN} GROUP BY 1) "
            "SELECT f.p, f.b, f.doctor, zb.org, f.day, n.n FROM f JOIN zb ON zb.id = f.b JOIN n ON n.p = f.p",
            [*zb_params, org.pk, ids, org.pk, org.pk, ids],
        )


def _stage_members(org: Organization, events: CellEvents, members: IdArray) -> None:
    """``cohort_facts.STAGE`` of the events' members from their ``FirstVisitFact`` rows (the cells they
    arrived on: ``stage_cohort``'s rows, without reading their appointments), the columns the cohort
    rows read (``insert_cohorts``)."""
    zb, zb_params = zones_sql(org)
    b, d = events.cells().arrays()
    with connection.cursor() as cur:
        _temp(
            cur,
            STAGE,
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"WITH zb AS ({zb}), "  # noqa: S608 - names from model meta  # nosec B608
            "c AS (SELECT DISTINCT * FROM unnest(%s::uuid[], %s::date[]) AS c(b, d)) "
            "SELECT v.patient_id AS p, v.branch_id AS b, zb.tz, zb.org, v.day, "
            f"{month_number('v.day')} AS cm, "
            "DENSE_RANK() OVER (ORDER BY zb.org, v.branch_id, v.day) AS g "
            f"FROM {VISITS} v JOIN c ON v.branch_id = c.b AND v.day = c.d JOIN zb ON zb.id = v.branch_id "
            "WHERE v.organization_id = %s AND v.arrived AND v.patient_id = ANY(%s::uuid[])",
            [*zb_params, b, d, org.pk, id_array(members.ids)],
        )


def build_cohort_events(org: Organization, events: CellEvents) -> int:
    """(PostgreSQL) The cohort rows of the events' months and the first-doctor rows of the changed
    patients' cells and doctors again; returns the rows written."""
    if not events:
        return 0
    written = 0
    with serial(), transaction.atomic():
        tune()
        with by_index():
            _months_delete(org, events)
        members = event_members(org, events, months=True)
        if members:
            ids = IdArray(tuple(members))
            _stage_members(org, events, ids)
            try:
                written = insert_cohorts(org, ids, events)
            finally:
                drop_cohort_stage()
        written += _doctor_events(org, events)
    return written
