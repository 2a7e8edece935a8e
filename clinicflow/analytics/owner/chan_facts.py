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
from clinicflow.analytics.owner.facts_firsts import UUID7
from clinicflow.analytics.owner.factsql import (
    Scope,
    age_band,
    bounds,
    execute,
    local_date,
    new_id,
    qs_sql,
    scope_days,
    scope_filter,
    zones_sql,
)
from clinicflow.analytics.owner.grouped import signed_cents
from clinicflow.analytics.reports.acquisition.first_patients import credited_sql
from clinicflow.analytics.reports.profile import BANDS, UNKNOWN_AGE
from clinicflow.booking.models import Appointment, Payment
from clinicflow.core.models import Organization
from clinicflow.patients.models import Patient, PatientPrediction

STAGED = "owner_chan_fb"  # a temporary table: the credited statement runs once per build
COLUMNS = "p, model, ch, camp, den, b, part, booked, arrived, tz, org, day, utc_day"
KEY = "org, b, day, utc_day, part, model, ch, camp, den"
S_KEY = ", ".join(f"s.{k}" for k in KEY.split(", "))
TABLE = ChanFirstFact._meta.db_table
# rows written in the order of the (organisation, day, branch) index, with time-ordered ids
# (PostgreSQL): each index is written a page after another, not a row on a random page each
ORDER = " ORDER BY 4, 3"
INSERT = (
    f"INSERT INTO {TABLE} (id, organization_id, branch_id, day, utc_day, part, model, channel_id, "
    "campaign_id, den, kind, currency, paid_day, paid_utc, booked, arrived, cents, until, sex, band) "
)


def _id() -> str:
    return UUID7 if connection.vendor == "postgresql" else new_id()


def stage(org: Organization, days: Scope, patients: Any) -> None:
    """The credited first visits of the scope's days into the temporary table ``STAGED``: per first
    visit, model, credited touch and branch counting it, the patient ``p``, ``model``, channel ``ch``,
    campaign ``camp``, ``den``, branch ``b`` (zone ``tz``, organisation ``org``), ``part``, flags
    ``booked`` and ``arrived`` (0/1), the local ``day`` and the UTC day ``utc_day``."""
    start, end = bounds(scope_days(days))
    credited, params = credited_sql(
        org=org, start=start, end=end, branch=None, model=FACT_MODELS, patients=patients
    )
    appts = Appointment.objects.for_org(org).order_by()
    if patients is not None:
        appts = appts.filter(patient_id__in=patients)
    ap_sql, ap_params = qs_sql(
        appts.values(
            "patient_id",
            "start_at",
            "branch_id",
            h=Case(When(status__in=HAPPENED, then=Value(1)), default=Value(0), output_field=IntegerField()),
        )
    )
    zb_sql, zb_params = zones_sql(org)
    where, where_params = scope_filter("y.b", "y.day", days)
    day, utc_day = local_date("c.at", "zb.tz"), local_date("c.at", "'UTC'")
    sql = (
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"CREATE TEMPORARY TABLE {STAGED} AS WITH {credited}, ap AS ({ap_sql}), zb AS ({zb_sql}), "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        # per first visit and branch with an appointment at that moment: the visit booked there, arrived
        # there when a visit that happened is; the chain counts it on the first such branch (part 0)
        "x AS (SELECT fv.n, ap.branch_id AS b, fv.booked, fv.arrived * MAX(ap.h) AS arrived, "
        f"CASE WHEN ROW_NUMBER() OVER (PARTITION BY fv.n ORDER BY MAX(ap.h) DESC, ap.branch_id) = 1 "
        f"THEN {BOTH} ELSE {BRANCH_ONLY} END AS part "
        "FROM fv JOIN ap ON ap.patient_id = fv.p AND ap.start_at = fv.at "
        "GROUP BY fv.n, ap.branch_id, fv.booked, fv.arrived), "
        "y AS (SELECT c.p, c.model, c.ch, c.camp, c.den, x.b, x.part, x.booked, x.arrived, zb.tz, zb.org, "
        f"{day} AS day, {utc_day} AS utc_day "
        "FROM credited c JOIN x ON x.n = c.n JOIN zb ON zb.id = x.b WHERE x.booked + x.arrived > 0) "
        f"SELECT {COLUMNS} FROM y WHERE 1 = 1{where}"  # nosec B608
    )
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    execute(f"DROP TABLE IF EXISTS {STAGED}", ())
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    execute(sql, params + ap_params + zb_params + where_params)
    if connection.vendor == "postgresql":
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        execute(f"ANALYZE {STAGED}", ())


def drop_stage() -> None:
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    execute(f"DROP TABLE IF EXISTS {STAGED}", ())


def _payments_sql(org: Organization, patients: Any) -> tuple[str, tuple[Any, ...]]:
    pays = Payment.objects.for_org(org).order_by()
    if patients is not None:
        pays = pays.filter(patient_id__in=patients)
    return qs_sql(pays.values("patient_id", "currency", "paid_at", c=signed_cents()))


def insert_facts(org: Organization, patients: Any, cutoff: Any) -> int:
    """The facts of the staged first visits (``stage`` ran): their counts, their payments per local and
    UTC day paid, before the stored predictions' ``cutoff`` (None: there are none) and their stored
    predictions; returns the rows written."""
    people_qs = Patient.objects.for_org(org).order_by()
    if patients is not None:  # only the scope's patients (not every card of the organisation)
        people_qs = people_qs.filter(id__in=patients)
    people, people_params = qs_sql(people_qs.values("id", "sex", "birth_date"))
    band = age_band("pt.birth_date", "s.day", BANDS, UNKNOWN_AGE)
    n = execute(
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"{INSERT}WITH pt AS ({people}), x AS (SELECT {S_KEY}, s.booked, s.arrived, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"COALESCE(pt.sex, '') AS sex, {band} AS band FROM {STAGED} s JOIN pt ON pt.id = s.p) "
        f"SELECT {_id()}, {KEY}, {COUNTS}, '', NULL, NULL, SUM(booked), SUM(arrived), 0, NULL, sex, band "
        f"FROM x GROUP BY {KEY}, sex, band{ORDER}",
        people_params,
    )
    pay_sql, pay_params = _payments_sql(org, patients)
    paid_day, paid_utc = local_date("pay.paid_at", "s.tz"), local_date("pay.paid_at", "'UTC'")
    fb = f"(SELECT {COLUMNS} FROM {STAGED} WHERE arrived = 1) s"  # nosec B608 # noqa: S608 - constants only
    n += execute(
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"{INSERT}WITH pay AS ({pay_sql}), x AS (SELECT s.org, s.b, s.day, s.utc_day, s.part, s.model, s.ch, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"s.camp, s.den, pay.currency, {paid_day} AS paid_day, {paid_utc} AS paid_utc, pay.c "
        f"FROM {fb} JOIN pay ON pay.patient_id = s.p) "
        f"SELECT {_id()}, {KEY}, {PAID}, currency, paid_day, paid_utc, 0, 0, SUM(c), NULL, '', '' FROM x "
        f"GROUP BY {KEY}, currency, paid_day, paid_utc{ORDER}",
        pay_params,
    )
    if cutoff is None:  # no stored predictions: no lifetime value to show
        return n
    before, before_params = qs_sql(
        Payment.objects.for_org(org)
        .filter(Q(paid_at__lt=cutoff), *(() if patients is None else (Q(patient_id__in=patients),)))
        .order_by()
        .values("patient_id", "currency", c=signed_cents())
    )
    n += execute(
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"{INSERT}WITH pay AS ({before}) SELECT {_id()}, s.org, s.b, s.day, s.utc_day, s.part, s.model, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"s.ch, s.camp, s.den, {BEFORE_CUTOFF}, pay.currency, NULL, NULL, 0, 0, SUM(pay.c), NULL, '', '' "
        f"FROM {fb} JOIN pay ON pay.patient_id = s.p GROUP BY {S_KEY}, pay.currency{ORDER}",
        before_params,
    )
    preds = PatientPrediction.objects.for_org(org).order_by()
    if patients is not None:
        preds = preds.filter(patient_id__in=patients)
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
        f"{INSERT}WITH pred AS ({pred_sql}) SELECT {_id()}, s.org, s.b, s.day, s.utc_day, s.part, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"s.model, s.ch, s.camp, s.den, {PREDICTED}, pred.cur, NULL, NULL, COUNT(*), 0, SUM(pred.v), "
        f"MAX(pred.u), '', '' FROM {fb} JOIN pred ON pred.p = s.p GROUP BY {S_KEY}, pred.cur{ORDER}",
        pred_params,
    )
    return n
