"""The channel and campaign reports' first patients as daily facts (``ChanFirstFact``, issue #17), built
by the database in set-based statements beside the owner's channel facts (``channel_facts``, which
calls ``stage`` and ``insert_facts`` for every day, some local days or some (branch, day) cells).

The first visits and their credit are the report's own statement (``first_patients.credited_sql``),
run once for every attribution model of ``FACT_MODELS`` and staged in a temporary table with, per
first visit, each branch that has an appointment at that moment: a branch's report counts the visit
booked there when any appointment of that moment is there, and arrived when a visit that happened is;
the chain's report counts the visit once, on the first branch (one with a visit that happened first,
then by id): there the branch's flags are the chain's (``part`` 0), elsewhere the branch's only (1).
The first patients' payments (any branch) are summed per local day paid on the clock of the visit's
branch and per UTC day; their revenue before the stored predictions' cut-off and their stored
predicted future value per currency, as the report does. The counts are split by the patient's sex
and age band on the visit's day (``reports.profile``: the patient profile reads them too)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.db.models import BigIntegerField, Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Cast, Round

from clinicflow.acquisition.attribution import HAPPENED
from clinicflow.analytics.owner.chan_models import (
    BEFORE_CUTOFF,
    BOTH,
    BRANCH_ONLY,
    COUNTS,
    FACT_MODELS,
    PAID,
    PREDICTED,
    ChanFirstFact,
)
from clinicflow.analytics.owner.fact_clear import row_id
from clinicflow.analytics.owner.fact_events import CellEvents
from clinicflow.analytics.owner.facts_firsts import FIRSTS, staged_for_all
from clinicflow.analytics.owner.factsql import (
    EVER,
    Cells,
    Scope,
    age_band,
    bounds,
    execute,
    local_date,
    near,
    qs_sql,
    scope_days,
    scope_filter,
    zones_sql,
)
from clinicflow.analytics.owner.first_models import FirstVisitFact
from clinicflow.analytics.owner.grouped import signed_cents
from clinicflow.analytics.reports.acquisition.first_patients import credited_sql, first_visit_times
from clinicflow.analytics.reports.profile import BANDS, UNKNOWN_AGE
from clinicflow.analytics.reports.sqlplan import of_ids
from clinicflow.booking.models import Appointment, Payment
from clinicflow.core.models import Organization
from clinicflow.patients.models import Patient, PatientPrediction

STAGED = "owner_chan_fb"  # a temporary table: the credited statement runs once per build
CELLS = "owner_chan_cells"  # the staged rows' cells: one row per ``g``
COLUMNS = "p, model, ch, camp, den, b, part, booked, arrived, tz, org, day, utc_day"
CELL = "org, b, day, utc_day, part, model, ch, camp, den"  # a fact's key but its kind's own columns
C_CELL = ", ".join(f"c.{k}" for k in CELL.split(", "))
TABLE = ChanFirstFact._meta.db_table
# rows written in the order of the (organisation, day, branch) index, with time-ordered ids
# (PostgreSQL): each index is written a page after another, not a row on a random page each
ORDER = " ORDER BY c.day, c.b"
INSERT = (
    f"INSERT INTO {TABLE} (id, organization_id, branch_id, day, utc_day, part, model, channel_id, "
    "campaign_id, den, kind, currency, paid_day, paid_utc, booked, arrived, cents, until, sex, band) "
)


def _id() -> str:
    return row_id()


def _flag(q: Q) -> Case:
    return Case(When(q, then=Value(1)), default=Value(0), output_field=IntegerField())


def _drop(*tables: str) -> None:
    for table in tables:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        execute(f"DROP TABLE IF EXISTS {table}", ())


def _credited_of_staged(org: Organization) -> tuple[str, tuple[Any, ...]] | None:
    """The full rebuild's credited statement on the first visits it staged (``facts_firsts``:
    ``owner_firsts`` holds every patient's ``first_visit_times``), not grouped from the appointments
    again; None when not staged so (or the statement's first CTE is not the first visit times)."""
    if not staged_for_all(org):
        return None
    credited, params = credited_sql(org=org, start=EVER[0], end=EVER[1], branch=None, model=FACT_MODELS)
    times, times_params = qs_sql(first_visit_times(org=org))
    prefix = f"firsts AS ({times})"
    if not credited.startswith(prefix) or params[: len(times_params)] != times_params:
        return None
    firsts = f"firsts AS (SELECT patient_id, booked_at, arrived_at FROM {FIRSTS})"  # nosec B608 # noqa: S608 - a constant name
    return firsts + credited[len(prefix) :], params[len(times_params) :]


def _branches_sql(org: Organization, days: Scope, patients: Any) -> tuple[str, tuple[Any, ...]]:
    """CTEs ``credited`` (the first visits and their credit) and ``x``: per first visit ``n`` and branch
    ``b`` with an appointment at that moment, the flags ``booked``, ``arrived`` and ``part``."""
    staged = _credited_of_staged(org) if days is None and patients is None else None
    if staged is not None:
        # the full rebuild: each first visit's branches are its patient's ``FirstVisitFact`` rows
        # (rewritten by the staging): ``booked`` where an appointment is at the booked first visit's
        # moment, ``arrived`` where one that happened is at the first visit that happened's
        credited, params = staged
        fvf, fvf_params = qs_sql(
            FirstVisitFact.objects.for_org(org)
            .filter(Q(booked=True) | Q(arrived=True))
            .order_by()
            .values("patient_id", "branch_id", h=_flag(Q(arrived=True)), bk=_flag(Q(booked=True)))
        )
        x = (
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"v AS ({fvf}), "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
            "x0 AS (SELECT fv.n, v.branch_id AS b, fv.booked, fv.arrived * v.h AS arrived FROM fv "
            "JOIN v ON v.patient_id = fv.p "
            "AND ((fv.booked = 1 AND v.bk = 1) OR (fv.booked = 0 AND v.h = 1))), "
            "x AS (SELECT x0.*, CASE WHEN ROW_NUMBER() OVER "
            f"(PARTITION BY x0.n ORDER BY x0.arrived DESC, x0.b) = 1 THEN {BOTH} ELSE {BRANCH_ONLY} END "
            "AS part FROM x0)"
        )
        return f"{credited}, {x}", params + fvf_params
    start, end = bounds(scope_days(days))
    credited, params = credited_sql(
        org=org, start=start, end=end, branch=None, model=FACT_MODELS, patients=patients
    )
    appts = Appointment.objects.for_org(org).order_by()
    appts = of_ids(appts, patients)
    ap_sql, ap_params = qs_sql(
        appts.values(
            "patient_id",
            "start_at",
            "branch_id",
            h=_flag(Q(status__in=HAPPENED)),
        )
    )
    # per first visit and branch with an appointment at that moment: the visit booked there, arrived
    # there when a visit that happened is; the chain counts it on the first such branch (part 0)
    x = (
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"ap AS ({ap_sql}), "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        "x AS (SELECT fv.n, ap.branch_id AS b, fv.booked, fv.arrived * MAX(ap.h) AS arrived, "
        f"CASE WHEN ROW_NUMBER() OVER (PARTITION BY fv.n ORDER BY MAX(ap.h) DESC, ap.branch_id) = 1 "
        f"THEN {BOTH} ELSE {BRANCH_ONLY} END AS part "
        "FROM fv JOIN ap ON ap.patient_id = fv.p AND ap.start_at = fv.at "
        "GROUP BY fv.n, ap.branch_id, fv.booked, fv.arrived)"
    )
    return f"{credited}, {x}", params + ap_params


def stage(org: Organization, days: Scope, patients: Any) -> None:
    """The credited first visits of the scope's days into the temporary table ``STAGED``: per first
    visit, model, credited touch and branch counting it, the patient ``p``, ``model``, channel ``ch``,
    campaign ``camp``, ``den``, branch ``b`` (zone ``tz``, organisation ``org``), ``part``, flags
    ``booked`` and ``arrived`` (0/1), the local ``day``, the UTC day ``utc_day`` and the number ``g``
    of its cell (``CELL``: the facts are grouped by it, their key read back from ``CELLS``)."""
    branches, params = _branches_sql(org, days, patients)
    zb_sql, zb_params = zones_sql(org)
    where, where_params = scope_filter("y.b", "y.day", days)
    day, utc_day = local_date("c.at", "zb.tz"), local_date("c.at", "'UTC'")
    sql = (
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"CREATE TEMPORARY TABLE {STAGED} AS WITH {branches}, zb AS ({zb_sql}), "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        "y AS (SELECT c.p, c.model, c.ch, c.camp, c.den, x.b, x.part, x.booked, x.arrived, zb.tz, zb.org, "
        f"{day} AS day, {utc_day} AS utc_day "
        "FROM credited c JOIN x ON x.n = c.n JOIN zb ON zb.id = x.b WHERE x.booked + x.arrived > 0) "
        f"SELECT {COLUMNS}, DENSE_RANK() OVER (ORDER BY {CELL}) AS g FROM y WHERE 1 = 1{where}"  # nosec B608
    )
    _drop(STAGED, CELLS)
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    execute(sql, params + zb_params + where_params)
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    execute(f"CREATE TEMPORARY TABLE {CELLS} AS SELECT DISTINCT g, {CELL}, tz FROM {STAGED}", ())  # nosec B608 # noqa: S608 - constants only
    if connection.vendor == "postgresql":
        for table in (STAGED, CELLS):
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            execute(f"ANALYZE {table}", ())


def drop_stage() -> None:
    _drop(STAGED, CELLS)


def _payments_sql(org: Organization, patients: Any) -> tuple[str, tuple[Any, ...]]:
    pays = Payment.objects.for_org(org).order_by()
    pays = of_ids(pays, patients)
    return qs_sql(pays.values("patient_id", "currency", "paid_at", c=signed_cents()))


def insert_facts(org: Organization, patients: Any, cutoff: Any) -> int:
    """The facts of the staged first visits (``stage`` ran): their counts, their payments per local and
    UTC day paid and before the stored predictions' ``cutoff`` (None: there are none; the payments read
    once for both), and their stored predictions; returns the rows written. Each is grouped by the
    staged cell number ``g`` and its key read back from ``CELLS``."""
    people_qs = Patient.objects.for_org(org).order_by()
    people_qs = of_ids(people_qs, patients, "id")  # only the scope's (not every card of the organisation)
    people, people_params = qs_sql(people_qs.values("id", "sex", "birth_date"))
    band = age_band("pt.birth_date", "s.day", BANDS, UNKNOWN_AGE)
    n = execute(
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"{INSERT}WITH pt AS ({people}), x AS (SELECT s.g, s.booked, s.arrived, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"COALESCE(pt.sex, '') AS sex, {band} AS band FROM {STAGED} s JOIN pt ON pt.id = s.p), "
        "y AS (SELECT g, sex, band, SUM(booked) AS booked, SUM(arrived) AS arrived FROM x "
        f"GROUP BY g, sex, band) SELECT {_id()}, {C_CELL}, {COUNTS}, '', NULL, NULL, y.booked, y.arrived, "
        f"0, NULL, y.sex, y.band FROM y JOIN {CELLS} c ON c.g = y.g{ORDER}",
        people_params,
    )
    pay_sql, pay_params = _payments_sql(org, patients)
    paid_day, paid_utc = local_date("fp.paid_at", "fp.tz"), local_date("fp.paid_at", "'UTC'")
    fb = f"(SELECT g, p, tz FROM {STAGED} WHERE arrived = 1) s"  # nosec B608 # noqa: S608 - constants only
    before: str = ""
    before_params: tuple[Any, ...] = ()
    if cutoff is not None:  # the first patients' revenue before the predictions' cut-off
        before = (
            f" UNION ALL SELECT g, {BEFORE_CUTOFF}, currency, NULL, NULL, SUM(c) FROM fp "  # nosec B608 # noqa: S608 - constants only
            "WHERE paid_at < %s GROUP BY g, currency"
        )
        before_params = (connection.ops.adapt_datetimefield_value(cutoff),)
    n += execute(
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"{INSERT}WITH pay AS ({pay_sql}), fp AS (SELECT s.g, s.tz, pay.currency, pay.paid_at, pay.c "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"FROM {fb} JOIN pay ON pay.patient_id = s.p), "
        f"y AS (SELECT g, {PAID} AS kind, currency, {paid_day} AS paid_day, {paid_utc} AS paid_utc, "
        f"SUM(c) AS c FROM fp GROUP BY g, currency, {paid_day}, {paid_utc}{before}) "
        f"SELECT {_id()}, {C_CELL}, y.kind, y.currency, y.paid_day, y.paid_utc, 0, 0, y.c, NULL, '', '' "
        f"FROM y JOIN {CELLS} c ON c.g = y.g{ORDER}",
        pay_params + before_params,
    )
    if cutoff is None:  # no stored predictions: no lifetime value to show
        return n
    preds = PatientPrediction.objects.for_org(org).order_by()
    preds = of_ids(preds, patients)
    pred_sql, pred_params = qs_sql(
        preds.values(
            p=F("patient_id"),
            cur=F("currency"),
            v=Cast(Round(F("clv") * 100), BigIntegerField()),
            u=F("until"),
        )
    )
    n += execute(
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"{INSERT}WITH pred AS ({pred_sql}), y AS (SELECT s.g, pred.cur, COUNT(*) AS n, SUM(pred.v) AS v, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"MAX(pred.u) AS u FROM {fb} JOIN pred ON pred.p = s.p GROUP BY s.g, pred.cur) "
        f"SELECT {_id()}, {C_CELL}, {PREDICTED}, y.cur, NULL, NULL, y.n, 0, y.v, y.u, '', '' "
        f"FROM y JOIN {CELLS} c ON c.g = y.g{ORDER}",
        pred_params,
    )
    return n


def insert_paid_events(org: Organization, patients: Any, events: CellEvents) -> int:
    """The staged first visits' payments (``PAID``) of the events' (branch, cell day, day paid) triples
    only (``fact_events``: their rows deleted before); returns the rows written."""
    pays = of_ids(Payment.objects.for_org(org).order_by(), patients)
    pay_sql, pay_params = qs_sql(
        pays.filter(near("paid_at", {x for _b, _d, x in events.days})).values(
            "patient_id", "currency", "paid_at", c=signed_cents()
        )
    )
    paid_day, paid_utc = local_date("fp.paid_at", "fp.tz"), local_date("fp.paid_at", "'UTC'")
    return execute(
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"{INSERT}WITH pay AS ({pay_sql}), fp AS (SELECT s.g, s.tz, pay.currency, pay.paid_at, pay.c "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"FROM (SELECT g, p, tz FROM {STAGED} WHERE arrived = 1) s JOIN pay ON pay.patient_id = s.p), "
        f"y AS (SELECT g, currency, {paid_day} AS paid_day, {paid_utc} AS paid_utc, SUM(c) AS c FROM fp "
        f"GROUP BY g, currency, {paid_day}, {paid_utc}) "
        f"SELECT {_id()}, {C_CELL}, {PAID}, y.currency, y.paid_day, y.paid_utc, 0, 0, y.c, NULL, '', '' "
        f"FROM y JOIN {CELLS} c ON c.g = y.g "
        "WHERE (c.b, c.day, y.paid_day) IN (SELECT * FROM unnest(%s::uuid[], %s::date[], %s::date[])) "
        f"{ORDER}",
        pay_params + tuple(events.day_arrays()),
    )


def events_delete(org: Organization, events: CellEvents, until: dt.date | None) -> None:
    """The payments' rows (``PAID``) of the events' triples and (``until``: the stored predictions'
    day) the revenue before the cut-off (``BEFORE_CUTOFF``) of their cells, before both are written
    again (``before_cutoff_of_cells``)."""
    kinds = "t.kind = %s AND t.paid_day = e.x"
    with connection.cursor() as cur:
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"DELETE FROM {TABLE} t USING unnest(%s::uuid[], %s::date[], %s::date[]) AS e(b, d, x) "  # noqa: S608 - names from model meta  # nosec B608
            f"WHERE t.organization_id = %s AND t.branch_id = e.b AND t.day = e.d AND {kinds}",
            [*events.day_arrays(), org.pk, PAID],
        )
        if until is not None:
            b, d = _cutoff_cells(events, until).arrays()
            cur.execute(
                # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
                f"DELETE FROM {TABLE} t USING unnest(%s::uuid[], %s::date[]) AS e(b, d) "  # noqa: S608 - names from model meta  # nosec B608
                "WHERE t.organization_id = %s AND t.branch_id = e.b AND t.day = e.d AND t.kind = %s",
                [b, d, org.pk, BEFORE_CUTOFF],
            )


def _cutoff_cells(events: CellEvents, until: dt.date) -> Cells:
    """The events' cells with a payment's day that can be before the cut-off (the end of ``until``,
    UTC; a local day is at most a day from its UTC day): their revenue before it changed."""
    last = until + dt.timedelta(days=1)
    return Cells(pairs=tuple(sorted({(b, d) for b, d, x in events.days if x <= last}, key=str)))


def before_cutoff_of_cells(org: Organization, events: CellEvents, until: dt.date) -> int:
    """The first patients' revenue before the predictions' cut-off (the end of ``until``, UTC) of the
    events' cells whose payments then changed, summed from their payments per UTC day paid (``PAID``
    rows, current): a payment before the cut-off is one paid on a UTC day up to ``until``. The cells'
    rows are read by their index, a cell at a time (nested loops: not ``factsql.execute``)."""
    b, d = _cutoff_cells(events, until).arrays()
    key = "t.organization_id, t.branch_id, t.day, t.utc_day, t.part, t.model, t.channel_id, t.campaign_id, "
    key += "t.den"
    with connection.cursor() as cur:
        cur.execute(
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            f"{INSERT}SELECT {_id()}, {key}, {BEFORE_CUTOFF}, t.currency, NULL, NULL, 0, 0, SUM(t.cents), "  # nosec B608 # noqa: S608 - names from model meta
            f"NULL, '', '' FROM unnest(%s::uuid[], %s::date[]) AS e(b, d) JOIN {TABLE} t "
            "ON t.organization_id = %s AND t.branch_id = e.b AND t.day = e.d WHERE t.kind = %s "
            f"AND t.paid_utc <= %s GROUP BY {key}, t.currency",
            (b, d, org.pk, PAID, until),
        )
        return int(cur.rowcount or 0)
