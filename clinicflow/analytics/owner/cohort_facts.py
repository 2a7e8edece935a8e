"""The cohort facts (``CohortFact``: first-visit month × months since) and the first patients per doctor
of their first visit (``FirstDoctorFact``), built by the database in set-based statements for every
day (the full rebuild), some local days or some (branch, day) cells (their rows deleted and written
again); ``cohort_events`` writes some months and doctors of cells again (the incremental update); the
reports read them through ``cohort_reads``.

The definitions are ``owner.grouped``'s (the cohort matrix and the balanced doctor) with the day on
the clock of the branch of the first visit: a first patient is counted on the local day of their first
visit that happened, by each branch with a visit that happened at that moment; their visit months and
payment months are on that branch's clock; the doctor of the first visit is the one of the visit that
happened at that moment in the branch (the least id when there are two)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Min, Q, Sum

from clinicflow.acquisition.attribution import HAPPENED
from clinicflow.analytics.models import CohortFact, FirstDoctorFact
from clinicflow.analytics.owner.fact_clear import clear, row_id
from clinicflow.analytics.owner.fact_events import CellEvents
from clinicflow.analytics.owner.facts_firsts import FIRSTS, staged_for_all
from clinicflow.analytics.owner.factsql import (
    Cells,
    Scope,
    cell_patients,
    cells_delete,
    day_chunks,
    execute,
    local_date,
    month_number,
    near,
    qs_sql,
    scope_filter,
    tune,
    zones_sql,
)
from clinicflow.analytics.owner.first_models import FirstVisitFact
from clinicflow.analytics.owner.grouped import signed_cents
from clinicflow.analytics.reports.sqlplan import IdArray, of_ids
from clinicflow.booking.models import Appointment, Payment
from clinicflow.core.models import Organization

TABLES = (CohortFact, FirstDoctorFact)
# the first patients' first visit that happened and their visits that happened, as staged by the full
# rebuild (``facts_firsts.staged_for_all``: ``arrived_at`` is ``first_visit_times``', ``visits`` counts)
STAGED_FIRSTS = f"SELECT patient_id, arrived_at AS at, visits AS n FROM {FIRSTS} WHERE arrived_at IS NOT NULL"  # nosec B608 # noqa: S608 - a constant name


STAGE = "owner_cohort_firsts"
# rows written in the order of the (organisation, day, branch) index, with time-ordered ids
# (``fact_clear``): each index is written a page after another, not a row on a random page each
ORDER = " ORDER BY c.day, c.b"  # the cells' (``insert_cohorts``)
PART = 100_000  # patients per statement of the incremental update (its memory)


def _happened(org: Organization, patients: Any) -> Any:
    happened = Appointment.objects.for_org(org).filter(status__in=HAPPENED).order_by()
    return of_ids(happened, patients)


def stage_cohort(org: Organization, days: Scope, patients: Any) -> None:
    """(Re)create the temporary table ``owner_cohort_firsts`` that the cohort and first-doctor facts
    both read (the patients' visits grouped once, not once per fact): per first patient and branch
    counting them, patient ``p``, first visit ``at``, branch ``b`` (zone ``tz``, organisation ``org``),
    local ``day`` and its month ``cm``, the doctor of the first visit ``doctor`` (the least id of the
    branch's visits at that moment), the patient's visits that happened ``n`` and the number ``g`` of
    the (organisation, branch, day) cell (the cohort facts group by it: a narrow key)."""
    happened = _happened(org, patients)
    firsts_sql, params = qs_sql(
        happened.values("patient_id")
        .annotate(at=Min("start_at"), n=Count("id"))
        .values("patient_id", "at", "n")
    )
    if days is None and patients is None and staged_for_all(org):
        # the full rebuild staged every patient's first visit that happened and their visits that
        # happened (``facts_firsts``): not grouped from the appointments again
        firsts_sql, params = STAGED_FIRSTS, ()
    aph_sql, aph_params = qs_sql(happened.values("patient_id", "start_at", "branch_id", "doctor_id"))
    zb_sql, zb_params = zones_sql(org)
    day = local_date("y1.at", "y1.tz")
    where, where_params = scope_filter("y.b", "y.day", days)
    sql = (
        f"CREATE TEMPORARY TABLE {STAGE} AS "  # nosec B608 # noqa: S608 - ORM SQL, values bound
        f"WITH f AS ({firsts_sql}), aph AS ({aph_sql}), zb AS ({zb_sql}), "
        "y0 AS (SELECT DISTINCT f.patient_id AS p, f.at, f.n, aph.branch_id AS b, aph.doctor_id AS doctor, "
        "zb.tz, zb.org FROM f JOIN aph ON aph.patient_id = f.patient_id AND aph.start_at = f.at "
        "JOIN zb ON zb.id = aph.branch_id), "
        "y1 AS (SELECT y0.*, ROW_NUMBER() OVER (PARTITION BY y0.p, y0.b ORDER BY y0.doctor) AS rn FROM y0), "
        f"y AS (SELECT y1.p, y1.at, y1.n, y1.b, y1.doctor, y1.tz, y1.org, {day} AS day FROM y1 "
        "WHERE y1.rn = 1) "
        f"SELECT y.p, y.at, y.n, y.b, y.doctor, y.tz, y.org, y.day, {month_number('y.day')} AS cm, "
        f"DENSE_RANK() OVER (ORDER BY y.org, y.b, y.day) AS g FROM y WHERE 1 = 1{where}"
    )
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"DROP TABLE IF EXISTS {STAGE}")
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    execute(sql, params + aph_params + zb_params + where_params)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            cur.execute(f"ANALYZE {STAGE}")


def drop_cohort_stage() -> None:
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(f"DROP TABLE IF EXISTS {STAGE}")


def _pays(org: Organization, patients: Any) -> tuple[str, tuple[Any, ...]]:
    """Per patient and currency their net payments in cents."""
    pays = of_ids(Payment.objects.for_org(org).order_by(), patients)
    return qs_sql(
        pays.values("patient_id", "currency")
        .annotate(c=Sum(signed_cents()))
        .values("patient_id", "currency", "c")
    )


def insert_cohorts(org: Organization, patients: Any, events: CellEvents | None = None) -> int:
    """The staged first patients' cohort rows: per cell their count (k = 0, no currency: the members'
    row, not with ``events``), per month k since the first visit's those with a visit that happened
    (k ≥ 1) and the net revenue paid per currency (k < 0 before the first visit's month: the reads
    count it at 0); with ``events`` only the months of those (branch, cell day, month) triples (their
    rows deleted before, ``cohort_events``)."""
    pays = of_ids(Payment.objects.for_org(org).order_by(), patients)
    happened = _happened(org, patients)
    if events is not None:  # the rows of the events' months only (read by the patients' indexes)
        days = events.month_days()
        pays, happened = pays.filter(near("paid_at", days)), happened.filter(near("start_at", days))
    pay_sql, pay_params = qs_sql(pays.values("patient_id", "currency", "paid_at", c=signed_cents()))
    aph_sql, aph_params = qs_sql(happened.values("patient_id", "start_at"))
    visit_month = month_number(local_date("aph.start_at", "fa.tz"))
    pay_month = month_number(local_date("pay.paid_at", "fa.tz"))
    members = "SELECT g, 0, '', COUNT(*), 0, 0 FROM fa GROUP BY g UNION ALL "
    v_where = r_where = ""
    e_params: tuple[Any, ...] = ()
    if events is not None:
        members = ""
        e = " IN (SELECT * FROM unnest(%s::uuid[], %s::date[], %s::int[]))"
        v_where, r_where = (
            f" WHERE (fa.b, fa.day, {visit_month}){e}",
            f" WHERE (fa.b, fa.day, {pay_month}){e}",
        )
        e_params = tuple(events.month_arrays())
    table = CohortFact._meta.db_table
    sql = (
        f"INSERT INTO {table} (id, organization_id, branch_id, day, cohort, k, currency, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        "patients, active, cents) "
        f"WITH fa AS (SELECT p, g, tz, cm, b, day FROM {STAGE}), "
        f"cells AS (SELECT DISTINCT g, org, b, day, cm FROM {STAGE}), "
        f"aph AS ({aph_sql}), pay AS ({pay_sql}), "
        f"v AS (SELECT DISTINCT fa.p, fa.g, {visit_month} - fa.cm AS k "
        f"FROM fa JOIN aph ON aph.patient_id = fa.p{v_where}), "
        f"r AS (SELECT fa.g, {pay_month} - fa.cm AS k, pay.currency, pay.c "
        f"FROM fa JOIN pay ON pay.patient_id = fa.p{r_where}), "
        f"u (g, k, currency, patients, active, cents) AS ({members}"
        "SELECT g, k, '', 0, COUNT(*), 0 FROM v WHERE k >= 1 GROUP BY g, k "
        "UNION ALL SELECT g, k, currency, 0, 0, SUM(c) FROM r GROUP BY g, k, currency) "
        f"SELECT {row_id()}, c.org, c.b, c.day, c.cm, u.k, u.currency, u.patients, u.active, u.cents "
        f"FROM u JOIN cells c ON c.g = u.g{ORDER}"
    )
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    return execute(sql, aph_params + pay_params + e_params + e_params)


def insert_doctors(org: Organization, patients: Any, pairs: str = "") -> int:
    """The staged first patients' rows per doctor of their first visit; ``pairs`` (a table of
    (``b``, ``d``, ``doctor``)): only those cells' doctors (their rows deleted before, ``cohort_events``)."""
    pay_sql, pay_params = _pays(org, patients)
    where = f" WHERE (s.b, s.day, s.doctor) IN (SELECT b, d, doctor FROM {pairs})" if pairs else ""  # nosec B608 # noqa: S608 - a constant name
    table = FirstDoctorFact._meta.db_table
    sql = (
        f"INSERT INTO {table} (id, organization_id, branch_id, day, doctor_id, currency, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        "patients, visits, cents) "
        f"WITH d AS (SELECT * FROM {STAGE} s{where}), pay AS ({pay_sql}) SELECT {row_id()}, u.* FROM ("
        "SELECT d.org, d.b, d.day, d.doctor, '' AS currency, COUNT(*) AS patients, SUM(d.n) AS visits, "
        "0 AS cents FROM d GROUP BY d.org, d.b, d.day, d.doctor "
        "UNION ALL SELECT d.org, d.b, d.day, d.doctor, pay.currency, 0, 0, SUM(pay.c) FROM d "
        f"JOIN pay ON pay.patient_id = d.p GROUP BY d.org, d.b, d.day, d.doctor, pay.currency) u "
        "ORDER BY u.day, u.b"
    )
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    return execute(sql, pay_params)


def _build(org: Organization, days: Scope, patients: Any) -> int:
    """The first patients staged once, then both facts from them."""
    stage_cohort(org, days, patients)
    try:
        return insert_cohorts(org, patients) + insert_doctors(org, patients)
    finally:
        drop_cohort_stage()


def build_cohort_facts(
    org: Organization, days: Collection[dt.date] | None = None, cells: Cells | None = None
) -> int:
    """Write the cohort and first-doctor facts of every day (``days`` None), of these local days or
    (PostgreSQL, ``cells``) of these branches' days again; returns the rows written."""
    if (days is not None and not days) or (cells is not None and not cells.pairs):
        return 0
    written = 0
    with transaction.atomic():
        tune()
        if cells is not None:  # the cells' first patients only (their first visits are current)
            cells_delete(TABLES, org, cells)
            firsts = cell_patients(org, cells, FirstVisitFact._meta.db_table)
            if not firsts:
                return 0
            # in parts, each bound as one array and read through the patient indexes (``sqlplan.IdArray``);
            # a cell's rows then come in parts, which the reads sum like any rows
            parts = (IdArray(tuple(firsts[i : i + PART])) for i in range(0, len(firsts), PART))
            return sum(_build(org, cells, part) for part in parts)
        for chunk in day_chunks(list(days) if days is not None else None):
            if chunk is None:  # every day: the organisation's rows (``fact_clear.clear``)
                clear(org, *TABLES)
            else:
                for model in TABLES:
                    model.objects.for_org(org).filter(day__in=chunk).delete()
            patients = None
            if chunk is not None:
                patients = (
                    Appointment.objects.for_org(org)
                    .filter(Q(status__in=HAPPENED), near("start_at", chunk))
                    .values("patient_id")
                )
            written += _build(org, chunk, patients)
    return written
