"""The per-channel daily facts (``ChannelFact``, ``ChannelValueFact``, ``FirstRevenueFact``) built by
the database in set-based statements (``INSERT ... SELECT ... GROUP BY``), for every day (the full
rebuild) or some local days (the incremental update: those days' rows deleted and written again).

The first visits and their credit are the channel report's own statement (``first_patients.
_credited_sql``, default model: last non-direct touch). A branch counts a first visit on its local day
as the channel report with that branch does: a booked first visit when an appointment of the patient
at that moment is in the branch, a first patient (arrived) when a visit that happened at that moment
is. A first patient's payments (any branch) are counted on the local day paid on the clock of the
branch of the first visit; their lifetime value is the channel report's (net revenue before the stored
predictions' cut-off plus the stored future value). Ad spend is not copied: ``AdSpend`` is itself one
row per day and campaign, and the owner's figures read it as the channel report does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, F, IntegerField, Max, Q, Value, When
from django.db.models.functions import Cast, Round

from clinicflow.acquisition.attribution import HAPPENED
from clinicflow.analytics.models import ChannelFact, ChannelValueFact, FirstRevenueFact
from clinicflow.analytics.owner.factsql import (
    Cells,
    Scope,
    age_band,
    bounds,
    cell_patients,
    cells_delete,
    day_chunks,
    execute,
    local_date,
    near,
    new_id,
    qs_sql,
    scope_days,
    scope_filter,
    tune,
    zones_sql,
)
from clinicflow.analytics.owner.first_models import FirstVisitFact
from clinicflow.analytics.owner.grouped import _cents
from clinicflow.analytics.reports.acquisition.first_patients import _credited_sql
from clinicflow.analytics.reports.profile import BANDS, UNKNOWN_AGE
from clinicflow.booking.models import Appointment, Payment
from clinicflow.core.models import Organization
from clinicflow.patients.models import Patient, PatientPrediction

MODEL = "last_non_direct"  # the channel report's default attribution model
TABLES = (ChannelFact, ChannelValueFact, FirstRevenueFact)


def _base_sql(org: Organization, days: Scope, patients: Any) -> tuple[str, tuple[Any, ...]]:
    """CTEs ending in ``fb``: per first visit and branch counting it, the patient ``p``, channel ``ch``,
    campaign ``camp``, branch ``b`` (zone ``tz``, organisation ``org``), local ``day``, flags
    ``booked`` and ``arrived`` (0/1)."""
    start, end = bounds(scope_days(days))
    credited, params = _credited_sql(
        org=org, start=start, end=end, branch=None, model=MODEL, patients=patients
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
    day = local_date("c.at", "zb.tz")
    sql = (
        f"{credited}, ap AS ({ap_sql}), zb AS ({zb_sql}), "  # nosec B608 # noqa: S608 - ORM SQL, values bound
        f"fb AS (SELECT c.p, c.ch, c.camp, ap.branch_id AS b, zb.tz, zb.org, {day} AS day, "
        "MAX(c.booked) AS booked, MAX(c.arrived * ap.h) AS arrived "
        "FROM credited c JOIN ap ON ap.patient_id = c.p AND ap.start_at = c.at "
        "JOIN zb ON zb.id = ap.branch_id "
        "GROUP BY c.p, c.at, c.ch, c.camp, ap.branch_id, zb.tz, zb.org)"
    )
    return sql, params + ap_params + zb_params


STAGED = "owner_channel_fb"  # a temporary table: the credited statement runs once per build


def _stage(org: Organization, days: Scope, patients: Any) -> None:
    """``fb`` of the days into the temporary table ``STAGED``."""
    base, params = _base_sql(org, days, patients)
    where, where_params = scope_filter("fb.b", "fb.day", days)
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    execute(f"DROP TABLE IF EXISTS {STAGED}", ())
    execute(
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"CREATE TEMPORARY TABLE {STAGED} AS WITH {base} "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"SELECT p, ch, camp, b, tz, org, day, booked, arrived FROM fb WHERE 1 = 1{where}",
        params + where_params,
    )
    if connection.vendor == "postgresql":
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        execute(f"ANALYZE {STAGED}", ())


def _base(org: Organization, days: Scope, patients: Any) -> tuple[str, tuple[Any, ...]]:
    """The staged ``fb`` (``_stage`` ran for the same days)."""
    return f"fb AS (SELECT p, ch, camp, b, tz, org, day, booked, arrived FROM {STAGED})", ()  # nosec B608 # noqa: S608 - a constant


def _counts(org: Organization, days: Scope, patients: Any) -> int:
    base, params = _base(org, days, patients)
    people_qs = Patient.objects.for_org(org).order_by()
    if patients is not None:  # only the scope's patients (not every card of the organisation)
        people_qs = people_qs.filter(id__in=patients)
    people, people_params = qs_sql(people_qs.values("id", "sex", "birth_date"))
    where, where_params = scope_filter("fb.b", "fb.day", days)
    band = age_band("pt.birth_date", "fb.day", BANDS, UNKNOWN_AGE)
    table = ChannelFact._meta.db_table
    sql = (
        f"INSERT INTO {table} (id, organization_id, branch_id, day, channel_id, campaign_id, sex, band, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"first_booked, first_arrived) WITH {base}, pt AS ({people}), "
        f"x AS (SELECT fb.org, fb.b, fb.day, fb.ch, fb.camp, COALESCE(pt.sex, '') AS sex, {band} AS band, "
        f"fb.booked, fb.arrived FROM fb JOIN pt ON pt.id = fb.p WHERE fb.booked + fb.arrived > 0{where}) "
        f"SELECT {new_id()}, org, b, day, ch, camp, sex, band, SUM(booked), SUM(arrived) FROM x "
        "GROUP BY org, b, day, ch, camp, sex, band"
    )
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    return execute(sql, params + people_params + where_params)


def _cutoff(org: Organization) -> dt.datetime | None:
    """The stored predictions' cut-off (``clv.stored.cutoff_expression``): the end of their day."""
    until = PatientPrediction.objects.for_org(org).aggregate(m=Max("until"))["m"]
    if until is None:
        return None
    return dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)


def _money(org: Organization, days: Scope, patients: Any) -> int:
    base, params = _base(org, days, patients)
    pays = Payment.objects.for_org(org).order_by()
    if patients is not None:
        pays = pays.filter(patient_id__in=patients)
    cutoff = _cutoff(org)
    before = Q(paid_at__lt=cutoff) if cutoff is not None else Q(pk__in=[])
    pay_sql, pay_params = qs_sql(
        pays.values(
            "patient_id",
            "currency",
            "paid_at",
            c=_cents(),
            early=Case(When(before, then=Value(1)), default=Value(0), output_field=IntegerField()),
        )
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
    where, where_params = scope_filter("fb.b", "fb.day", days)
    paid = local_date("pay.paid_at", "fb.tz")
    revenue = FirstRevenueFact._meta.db_table
    n = execute(
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"INSERT INTO {revenue} (id, organization_id, branch_id, day, paid_day, currency, cents) "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"WITH {base}, pay AS ({pay_sql}), "
        f"x AS (SELECT fb.org, fb.b, fb.day, {paid} AS paid_day, pay.currency, pay.c FROM fb "
        f"JOIN pay ON pay.patient_id = fb.p WHERE fb.arrived = 1{where}) "
        f"SELECT {new_id()}, org, b, day, paid_day, currency, SUM(c) FROM x "
        "GROUP BY org, b, day, paid_day, currency",
        params + pay_params + where_params,
    )
    if cutoff is None:  # no stored predictions: no lifetime value to show
        return n
    value = ChannelValueFact._meta.db_table
    cols = "(id, organization_id, branch_id, day, channel_id, campaign_id, currency, cents, until)"
    n += execute(
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"INSERT INTO {value} {cols} WITH {base}, pay AS ({pay_sql}) "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"SELECT {new_id()}, fb.org, fb.b, fb.day, fb.ch, fb.camp, pay.currency, "
        "SUM(pay.c * pay.early), NULL "
        f"FROM fb JOIN pay ON pay.patient_id = fb.p WHERE fb.arrived = 1{where} "
        "GROUP BY fb.org, fb.b, fb.day, fb.ch, fb.camp, pay.currency",
        params + pay_params + where_params,
    )
    n += execute(
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        f"INSERT INTO {value} {cols} WITH {base}, pred AS ({pred_sql}) "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"SELECT {new_id()}, fb.org, fb.b, fb.day, fb.ch, fb.camp, pred.cur, SUM(pred.v), MAX(pred.u) "
        f"FROM fb JOIN pred ON pred.p = fb.p WHERE fb.arrived = 1{where} "
        "GROUP BY fb.org, fb.b, fb.day, fb.ch, fb.camp, pred.cur",
        params + pred_params + where_params,
    )
    return n


def build_channel_facts(
    org: Organization, days: Collection[dt.date] | None = None, cells: Cells | None = None
) -> int:
    """Write the channel facts of every day (``days`` None: the full rebuild), of these local days or
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
            _stage(org, cells, firsts)
            written += _counts(org, cells, firsts) + _money(org, cells, firsts)
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            execute(f"DROP TABLE {STAGED}", ())
            return written
        for chunk in day_chunks(list(days) if days is not None else None):
            for model in TABLES:
                qs = model.objects.for_org(org)
                (qs.filter(day__in=chunk) if chunk is not None else qs).delete()
            patients = None
            if chunk is not None:
                patients = (
                    Appointment.objects.for_org(org).filter(near("start_at", chunk)).values("patient_id")
                )
            _stage(org, chunk, patients)
            written += _counts(org, chunk, patients) + _money(org, chunk, patients)
            # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
            execute(f"DROP TABLE {STAGED}", ())
    return written
