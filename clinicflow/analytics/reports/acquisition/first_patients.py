"""The period's first patients per channel or campaign, in one SQL statement on SQLite and PostgreSQL.

The rules are defined once, as pure functions, in ``clinicflow.acquisition.attribution``
(``first_visits``, ``credit``, ``revenue``, ``first_patient_credit``). Fetching every touch into
Python to apply them costs seconds on a year of a chain (4-7 s against the benchmark's data), so the
report asks the database for the same result: the statement below is built from ORM querysets (the
first-visit times, the touches, the payments) joined by a little portable SQL (window functions,
``UNION ALL``), and property tests over random data check it against the pure definitions on both
databases (``clinicflow/analytics/tests/test_first_patients_property.py``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    F,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Round
from django.utils.dateparse import parse_datetime

from clinicflow.acquisition.attribution import DIRECT, HAPPENED, REFUND, Tally
from clinicflow.acquisition.models import Call, Channel, Lead, WebSession
from clinicflow.analytics.clv.stored import cutoff_expression
from clinicflow.analytics.reports.acquisition.lifetime import Lifetime, as_uuid, fold_first_patients
from clinicflow.analytics.reports.sqlplan import fetch_all, of_ids
from clinicflow.booking.models import Appointment, Payment
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient, PatientPrediction

# Touch sources, in the order ``attribution.credit`` sees touches at the same moment: 0 call, 1 lead,
# 2 web session (then by id).
TOUCH_SOURCES: tuple[tuple[type[Call] | type[Lead] | type[WebSession], str], ...] = (
    (Call, "started_at"),
    (Lead, "created_at"),
    (WebSession, "started_at"),
)
# The credited touch first, per model (``attribution.credit``); rn = 1 wins.
WINNER_ORDER = {
    "last_non_direct": "t.paid DESC, t.at DESC, t.src DESC, t.tid DESC",
    "first_touch": "t.at, t.src, t.tid",
    "linear": "t.at, t.src, t.tid",
}
GROUP_COLUMN = {"channel": "ch", "campaign": "camp"}
HAPPENED_Q = Q(status__in=HAPPENED)


def first_visit_times(*, org: Organization) -> QuerySet[Any, Any]:
    """Per patient: ``booked_at``, the start of their first appointment of any status (their booked
    first visit), and ``arrived_at``, the start of their first visit that happened (``HAPPENED``)."""
    return (
        Appointment.objects.for_org(org)
        .order_by()
        .values("patient_id")
        .annotate(booked_at=Min("start_at"), arrived_at=Min("start_at", filter=HAPPENED_Q))
    )


def _sql(qs: QuerySet[Any, Any]) -> tuple[str, tuple[Any, ...]]:
    """A queryset's SQL and parameters (as the database gets them), to be a part of a statement."""
    sql, params = qs.query.sql_with_params()
    return sql, tuple(params)


def _visits_sql(
    *,
    org: Organization,
    start: dt.datetime,
    end: dt.datetime,
    branch: Branch | None,
    patients: QuerySet[Any, Any] | None = None,
) -> tuple[str, tuple[Any, ...]]:
    """CTEs ending in ``fv``: the period's first visits (``n`` numbers them; patient ``p``, start
    ``at``, flags ``booked`` and ``arrived`` as 0/1) — the patient's booked first visit when it starts
    in [start, end), and their first visit that happened when it does and is not the same moment. With
    a branch, each counts when an appointment of its kind at that moment is in the branch."""
    times = first_visit_times(org=org)
    times = of_ids(times, patients)  # only these patients' (the daily facts' update of some days)
    firsts_sql, params = _sql(times)
    period = "{0} >= %s AND {0} < %s"
    ctes = [f"firsts AS ({firsts_sql})"]
    here_b = here_a = ""
    if branch is not None:
        here = Appointment.objects.for_org(org).filter(branch=branch, start_at__gte=start, start_at__lt=end)
        here_sql, here_params = _sql(
            here.order_by().values(
                "patient_id",
                "start_at",
                h=Case(When(HAPPENED_Q, then=Value(1)), default=Value(0), output_field=IntegerField()),
            )
        )
        ctes.append(f"here AS ({here_sql})")
        params += here_params
        exists = "EXISTS (SELECT 1 FROM here WHERE here.patient_id = f.patient_id AND here.start_at = f.{}{})"
        here_b = " AND " + exists.format("booked_at", "")
        here_a = " AND " + exists.format("arrived_at", " AND here.h = 1")
    visits = (
        "visits AS (SELECT f.patient_id AS p, f.booked_at AS at, 1 AS booked, "  # nosec B608 # noqa: S608 - constants only
        f"CASE WHEN f.arrived_at = f.booked_at{here_a} THEN 1 ELSE 0 END AS arrived FROM firsts f "
        f"WHERE {period.format('f.booked_at')}{here_b} "
        "UNION ALL SELECT f.patient_id, f.arrived_at, 0, 1 FROM firsts f "
        f"WHERE {period.format('f.arrived_at')} AND f.arrived_at <> f.booked_at{here_a})"
    )
    fv = "fv AS (SELECT ROW_NUMBER() OVER (ORDER BY p, at) AS n, p, at, booked, arrived FROM visits)"
    bounds = connection.ops.adapt_datetimefield_value(start), connection.ops.adapt_datetimefield_value(end)
    return ", ".join([*ctes, visits, fv]), params + bounds + bounds


def _touches_sql(
    *, org: Organization, patients: QuerySet[Any, Any] | None = None
) -> tuple[str, tuple[Any, ...]]:
    """CTE ``touches``: every touch of a known patient (``p``, ``at``, ``src``, ``tid``, channel
    ``ch``, campaign ``camp``, ``paid`` = 1 when the channel is known and not direct)."""
    non_direct = Channel.objects.for_org(org).exclude(code=DIRECT).values("pk")
    parts = []
    for src, (model, at_field) in enumerate(TOUCH_SOURCES):
        qs = model.objects.for_org(org).filter(patient__isnull=False).order_by()
        qs = of_ids(qs, patients)
        parts.append(
            qs.values(
                p=F("patient_id"),
                at=F(at_field),
                src=Value(src, output_field=IntegerField()),
                tid=F("id"),
                ch=F("channel_id"),
                camp=F("campaign_id"),
                paid=Case(
                    When(channel_id__in=Subquery(non_direct), then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                ),
            )
        )
    sql, params = _sql(parts[0].union(*parts[1:], all=True))
    return f"touches AS ({sql})", params


def _revenue_sql(
    *, org: Organization, start: dt.datetime, end: dt.datetime, lifetime: bool = False
) -> tuple[str, tuple[Any, ...]]:
    """CTE ``rev``: per first patient and currency, their payments less refunds in minor units (cents,
    exact on both databases) in the period, to ``end`` and — with ``lifetime`` — (``upto``) before the
    stored predictions' cut-off (``stored.cutoff_expression``; NULL when there are none)."""
    cents = Cast(
        Round(Case(When(kind=REFUND, then=-F("amount")), default=F("amount")) * 100),
        BigIntegerField(),
    )
    upto = cutoff_expression(org=org) if lifetime else end
    qs = (
        (Payment.objects.for_org(org) if lifetime else Payment.objects.for_org(org).filter(paid_at__lt=end))
        # only the first patients' payments are summed (not every patient's, then most dropped)
        .filter(patient_id__in=RawSQL("SELECT p FROM fv WHERE arrived = 1", ()))
        .order_by()
        .values(p=F("patient_id"), cur=F("currency"))
        .annotate(
            period=Sum(cents, filter=Q(paid_at__gte=start, paid_at__lt=end)),
            total=Sum(cents, filter=Q(paid_at__lt=end)),
            upto=Sum(cents, filter=Q(paid_at__lt=upto)),
        )
    )
    sql, params = _sql(qs)
    rev = f"rev AS ({sql})"
    return rev, params


def _predictions_sql(*, org: Organization) -> tuple[str, tuple[Any, ...]]:
    """CTE ``pred``: every stored prediction (``PatientPrediction``): patient ``p``, currency ``cur``, the
    predicted future value ``v`` in minor units and the day ``u`` it was made for."""
    qs = (
        PatientPrediction.objects.for_org(org)
        .order_by()
        .values(
            p=F("patient_id"),
            cur=F("currency"),
            v=Cast(Round(F("clv") * 100), BigIntegerField()),
            u=F("until"),
        )
    )
    sql, params = _sql(qs)
    return f"pred AS ({sql})", params


def first_patients_sql(
    *,
    org: Organization,
    start: dt.datetime,
    end: dt.datetime,
    branch: Branch | None,
    model: str,
    group: str,
    lifetime: bool = False,
) -> tuple[str, tuple[Any, ...]]:
    """The statement: rows (key, den, booked, arrived, currency, a, b, c, kind, until). ``kind`` 0 counts
    ``booked`` and ``arrived`` first visits credited 1/den each; kind 1 sums the revenue (cents) of first
    patients credited 1/den each: a in the period, b to ``end``, c (with ``lifetime``) before the stored
    predictions' cut-off; with ``lifetime``, kind 2 sums their stored predicted future value (a, cents),
    counts those that have one (b) and gives the predictions' day (until). Whole-credit models keep the
    winning touch of each first visit (den 1); linear keeps every touch, each worth 1/(the visit's
    touches)."""
    credited, credited_params = credited_sql(org=org, start=start, end=end, branch=branch, model=model)
    rev, rev_params = _revenue_sql(org=org, start=start, end=end, lifetime=lifetime)
    pred, pred_params = _predictions_sql(org=org) if lifetime else ("", ())
    key = GROUP_COLUMN[group]
    sql = (
        f"WITH {credited}, {rev}{', ' + pred if pred else ''} "  # nosec B608 # noqa: S608 - built from ORM querysets and constants, values bound
        f"SELECT c.{key}, c.den, SUM(c.booked), SUM(c.arrived), CAST(NULL AS VARCHAR(3)), "
        "CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), 0, CAST(NULL AS DATE) "
        f"FROM credited c GROUP BY c.{key}, c.den "
        f"UNION ALL SELECT c.{key}, c.den, 0, 0, r.cur, SUM(r.period), SUM(r.total), SUM(r.upto), 1, "
        "CAST(NULL AS DATE) "
        f"FROM credited c JOIN rev r ON r.p = c.p WHERE c.arrived = 1 GROUP BY c.{key}, c.den, r.cur"
    )
    if pred:
        sql += (
            f" UNION ALL SELECT c.{key}, c.den, 0, 0, pr.cur, SUM(pr.v), COUNT(*), "  # nosec B608 # noqa: S608 - constants only
            "CAST(NULL AS BIGINT), 2, MAX(pr.u) "
            f"FROM credited c JOIN pred pr ON pr.p = c.p WHERE c.arrived = 1 GROUP BY c.{key}, c.den, pr.cur"
        )
    return sql, credited_params + rev_params + pred_params


def credited_sql(
    *,
    org: Organization,
    start: dt.datetime,
    end: dt.datetime,
    branch: Branch | None,
    model: str | tuple[str, ...],
    patients: QuerySet[Any, Any] | None = None,
) -> tuple[str, tuple[Any, ...]]:
    """CTEs ending in ``credited``: each first visit of the period (number ``n``, patient ``p``, start
    ``at``, flags ``booked``, ``arrived``) with its credited channel ``ch`` / campaign ``camp``, worth
    1/``den``, by the attribution ``model`` — or (a tuple, the daily facts) by each of these models,
    named in ``model``, from one pass over the touches."""
    models = (model,) if isinstance(model, str) else model
    if not models or any(m not in WINNER_ORDER for m in models):
        raise ValueError(f"unknown attribution model in {models!r}")
    visits, visits_params = _visits_sql(org=org, start=start, end=end, branch=branch, patients=patients)
    touches, touches_params = _touches_sql(org=org, patients=patients)
    ranks = "".join(
        f"ROW_NUMBER() OVER (PARTITION BY fv.n ORDER BY {WINNER_ORDER[m]}) AS rn{i}, "
        for i, m in enumerate(models)
        if m != "linear"
    )
    credited = " UNION ALL ".join(
        # the model's name is one of WINNER_ORDER's keys (checked above), never user input
        f"SELECT n, p, at, booked, arrived, ch, camp, '{m}' AS model, "  # nosec B608 # noqa: S608 - constants only
        + (
            "CASE WHEN k > 0 THEN k ELSE 1 END AS den FROM ranked"
            if m == "linear"
            else f"1 AS den FROM ranked WHERE rn{i} = 1"
        )
        for i, m in enumerate(models)
    )
    sql = (
        f"{visits}, {touches}, "  # nosec B608 # noqa: S608 - built from ORM querysets and constants, values bound
        f"ranked AS (SELECT fv.n, fv.p, fv.at, fv.booked, fv.arrived, t.ch, t.camp, {ranks}"
        "COUNT(t.tid) OVER (PARTITION BY fv.n) AS k "
        "FROM fv LEFT JOIN touches t ON t.p = fv.p AND t.at <= fv.at), "
        f"credited AS ({credited})"
    )
    return sql, visits_params + touches_params


def credited_first_patients(
    *, org: Organization, start: dt.datetime, end: dt.datetime, branch: Branch | None, model: str
) -> list[tuple[uuid.UUID | None, int, str, dt.date | None, dt.datetime]]:
    """The period's first patients as the channel report credits them, with their sex and birth date:
    (channel id or None, den, sex, birth date, first visit) — a patient credited to k channels (linear)
    gives k rows worth 1/den each."""
    credited, params = credited_sql(org=org, start=start, end=end, branch=branch, model=model)
    people, people_params = _sql(Patient.objects.for_org(org).order_by().values("id", "sex", "birth_date"))
    sql = (
        f"WITH {credited}, pt AS ({people}) "  # nosec B608 # noqa: S608 - built from ORM querysets, values bound
        "SELECT c.ch, c.den, pt.sex, pt.birth_date, c.at FROM credited c JOIN pt ON pt.id = c.p "
        "WHERE c.arrived = 1"
    )
    return [
        (_uuid(ch), int(den), sex, _day(born), _aware(at))
        for ch, den, sex, born, at in fetch_all(sql, params + people_params)
    ]


def _day(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _uuid(value: Any) -> uuid.UUID | None:
    return as_uuid(value)


def first_patient_values(
    *,
    org: Organization,
    start: dt.datetime,
    end: dt.datetime,
    branch: Branch | None,
    model: str,
    group: str,
    lifetime: bool = False,
) -> tuple[dict[uuid.UUID | None, Tally], dict[uuid.UUID | None, Lifetime], dt.date | None]:
    """``first_patient_tallies`` and, with ``lifetime``, each key's ``Lifetime`` and the stored
    predictions' day (None when none of the first patients has a prediction) — in the same statement
    (its rows read by ``lifetime.fold_first_patients``)."""
    sql, params = first_patients_sql(
        org=org, start=start, end=end, branch=branch, model=model, group=group, lifetime=lifetime
    )
    return fold_first_patients(fetch_all(sql, params))


def first_patient_tallies(
    *, org: Organization, start: dt.datetime, end: dt.datetime, branch: Branch | None, model: str, group: str
) -> dict[uuid.UUID | None, Tally]:
    """``attribution.first_patient_credit`` of the organisation's patients, computed by the database:
    per channel / campaign id (None: direct / unknown) the booked first visits, first patients and
    their revenue (per currency) of [start, end)."""
    return first_patient_values(org=org, start=start, end=end, branch=branch, model=model, group=group)[0]


def _aware(value: Any) -> dt.datetime:
    """A timestamp as the database returns it (PostgreSQL: aware; SQLite: naive UTC text)."""
    at = value if isinstance(value, dt.datetime) else parse_datetime(str(value))
    if at is None:
        raise ValueError(f"not a timestamp: {value!r}")
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class FirstVisits:
    """The period's first visits: patient id → start of their booked first visit / of their first
    visit that happened (the period's first patients)."""

    booked: dict[uuid.UUID, dt.datetime] = field(default_factory=dict)
    arrived: dict[uuid.UUID, dt.datetime] = field(default_factory=dict)


def first_visits(
    *, org: Organization, start: dt.datetime, end: dt.datetime, branch: Branch | None = None
) -> FirstVisits:
    """The first visits in [start, end) (with a branch, those that took place there), by the same
    statement the channel report runs."""
    visits, params = _visits_sql(org=org, start=start, end=end, branch=branch)
    out = FirstVisits()
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — SQL of ORM querysets and constants, values bound
        cur.execute(f"WITH {visits} SELECT p, at, booked, arrived FROM fv ORDER BY at, p", params)  # nosec B608 # noqa: S608 - built from ORM querysets, values bound
        for p, at, booked, arrived in cur.fetchall():
            patient, when = _uuid(p), _aware(at)
            assert patient is not None
            if booked:
                out.booked[patient] = when
            if arrived:
                out.arrived[patient] = when
    return out
