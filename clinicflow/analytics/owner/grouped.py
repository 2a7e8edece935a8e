"""The first patients' figures of the cohort and balanced-doctor reports, grouped by the database.

``owner.patients.first_patients`` fetched every visit and payment of the period's first patients into
Python (seconds on a year of a chain); these statements return the same figures already grouped — per
cohort month, per doctor of the first visit — built from ORM querysets joined by a little portable SQL
(SQLite and PostgreSQL), money in exact minor units. The definitions are ``first_patients``'s:

- a first patient: their first visit that happened (``HAPPENED``) starts in [start, end); with a
  branch, a visit that happened at that moment is in the branch;
- their visits: every visit that happened; their revenue: every payment in the currency, to date, less
  refunds; the doctor of the first visit: the doctor of the visit that happened at that moment (in the
  branch, with one)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import BigIntegerField, Case, Count, F, Min, Q, QuerySet, Sum, When
from django.db.models.functions import Cast, ExtractMonth, ExtractYear, Round

from clinicflow.acquisition.attribution import HAPPENED, REFUND
from clinicflow.analytics.reports.sqlplan import fetch_all
from clinicflow.booking.models import Appointment, Payment
from clinicflow.core.models import Branch, Organization

HAPPENED_Q = Q(status__in=HAPPENED)


def _sql(qs: QuerySet[Any, Any]) -> tuple[str, tuple[Any, ...]]:
    sql, params = qs.query.sql_with_params()
    return sql, tuple(params)


def _month(field: str, tz: dt.tzinfo) -> Any:
    """year × 12 + month − 1 of a timestamp on the ``tz`` clock (``cohorts._month``)."""
    return ExtractYear(field, tzinfo=tz) * 12 + ExtractMonth(field, tzinfo=tz) - 1


def signed_cents() -> Any:
    """A payment's signed amount (refunds negative) in minor units: exact on both databases."""
    return Cast(
        Round(Case(When(kind=REFUND, then=-F("amount")), default=F("amount")) * 100),
        BigIntegerField(),
    )


def _firsts_sql(
    *, org: Organization, start: dt.datetime, end: dt.datetime, branch: Branch | None, tz: dt.tzinfo
) -> tuple[str, tuple[Any, ...]]:
    """CTEs ending in ``f``: the first patients (``p``), their first visit's start (``at``) and its
    month on the ``tz`` clock (``m``)."""
    happened = Appointment.objects.for_org(org).filter(HAPPENED_Q)
    firsts = (
        happened.order_by()
        .values("patient_id")
        .annotate(at=Min("start_at"))
        .annotate(m=_month("at", tz))
        .filter(at__gte=start, at__lt=end)
        .values_list("patient_id", "at", "m")
    )
    sql, params = _sql(firsts)
    if branch is None:
        return f"f0 AS ({sql}), f AS (SELECT patient_id AS p, at, m FROM f0)", params  # nosec B608 # noqa: S608 - ORM SQL
    here = happened.filter(branch=branch, start_at__gte=start, start_at__lt=end).order_by()
    here_sql, here_params = _sql(here.values("patient_id", "start_at"))
    return (
        f"f0 AS ({sql}), h AS ({here_sql}), "  # nosec B608 # noqa: S608 - ORM SQL, values bound
        "f AS (SELECT f0.patient_id AS p, f0.at, f0.m FROM f0 WHERE EXISTS "
        "(SELECT 1 FROM h WHERE h.patient_id = f0.patient_id AND h.start_at = f0.at))",
        params + here_params,
    )


def _int(value: Any) -> int:
    return int(value or 0)


@dataclass
class CohortCells:
    """Per cohort month (year × 12 + month − 1): its first patients, the patients with a visit that
    happened k months after (k ≥ 1) and the net revenue in cents paid k months after (k ≥ 0; earlier
    payments count at 0)."""

    patients: dict[int, int]
    active: dict[tuple[int, int], int]
    revenue: dict[tuple[int, int], int]


def cohort_cells(
    *,
    org: Organization,
    start: dt.datetime,
    end: dt.datetime,
    branch: Branch | None,
    currency: str,
    tz: dt.tzinfo,
    months: int,
) -> CohortCells:
    """The cohort matrix's cells up to ``months`` after the first visit, in one statement."""
    firsts, params = _firsts_sql(org=org, start=start, end=end, branch=branch, tz=tz)
    happened = Appointment.objects.for_org(org).filter(HAPPENED_Q).order_by()
    visits_sql, visits_params = _sql(happened.values("patient_id", m=_month("start_at", tz)).distinct())
    pays = Payment.objects.for_org(org).filter(currency=currency).order_by()
    pays_sql, pays_params = _sql(pays.values("patient_id", m=_month("paid_at", tz), c=signed_cents()))
    sql = (
        f"WITH {firsts}, v AS ({visits_sql}), pay AS ({pays_sql}), "  # nosec B608 # noqa: S608 - ORM SQL, values bound
        "c AS (SELECT f.p, f.m FROM f) "
        "SELECT 0, c.m, 0, COUNT(*) FROM c GROUP BY c.m "
        "UNION ALL SELECT 1, c.m, v.m - c.m, COUNT(*) FROM c JOIN v ON v.patient_id = c.p "
        "WHERE v.m - c.m BETWEEN 1 AND %s GROUP BY c.m, v.m - c.m "
        "UNION ALL SELECT 2, c.m, CASE WHEN pay.m < c.m THEN 0 ELSE pay.m - c.m END, SUM(pay.c) "
        "FROM c JOIN pay ON pay.patient_id = c.p WHERE pay.m - c.m <= %s "
        "GROUP BY c.m, CASE WHEN pay.m < c.m THEN 0 ELSE pay.m - c.m END"
    )
    out = CohortCells(patients={}, active={}, revenue={})
    for kind, month, k, n in fetch_all(sql, params + visits_params + pays_params + (months, months)):
        if int(kind) == 0:
            out.patients[int(month)] = _int(n)
        elif int(kind) == 1:
            out.active[(int(month), int(k))] = _int(n)
        else:
            out.revenue[(int(month), int(k))] = _int(n)
    return out


@dataclass
class DoctorFirsts:
    """A doctor's first patients (their first visit was with the doctor): how many, their visits that
    happened (all, to date) and their net revenue to date in cents."""

    patients: int
    visits: int
    cents: int


def doctor_firsts(
    *, org: Organization, start: dt.datetime, end: dt.datetime, branch: Branch | None, currency: str
) -> dict[uuid.UUID, DoctorFirsts]:
    """Per doctor of the first visit, the figures of ``DoctorFirsts``, in one statement."""
    firsts, params = _firsts_sql(org=org, start=start, end=end, branch=branch, tz=dt.UTC)
    happened = Appointment.objects.for_org(org).filter(HAPPENED_Q).order_by()
    at_first = happened if branch is None else happened.filter(branch=branch)
    doc_sql, doc_params = _sql(at_first.values("patient_id", "start_at", "doctor_id"))
    visits_sql, visits_params = _sql(
        happened.values("patient_id").annotate(n=Count("id")).values("patient_id", "n")
    )
    pays = Payment.objects.for_org(org).filter(currency=currency).order_by()
    per_patient = pays.values("patient_id").annotate(c=Sum(signed_cents())).values("patient_id", "c")
    pays_sql, pays_params = _sql(per_patient)
    sql = (
        f"WITH {firsts}, d0 AS ({doc_sql}), nv AS ({visits_sql}), pay AS ({pays_sql}), "  # nosec B608 # noqa: S608 - ORM SQL, values bound
        "d AS (SELECT f.p, d0.doctor_id AS doctor, "
        "ROW_NUMBER() OVER (PARTITION BY f.p ORDER BY d0.doctor_id) AS rn "
        "FROM f JOIN d0 ON d0.patient_id = f.p AND d0.start_at = f.at) "
        "SELECT d.doctor, COUNT(*), SUM(nv.n), SUM(COALESCE(pay.c, 0)) FROM d "
        "JOIN nv ON nv.patient_id = d.p LEFT JOIN pay ON pay.patient_id = d.p "
        "WHERE d.rn = 1 AND d.doctor IS NOT NULL GROUP BY d.doctor"
    )
    out: dict[uuid.UUID, DoctorFirsts] = {}
    for doctor, n, visits, cents in fetch_all(sql, params + doc_params + visits_params + pays_params):
        key = doctor if isinstance(doctor, uuid.UUID) else uuid.UUID(str(doctor))
        out[key] = DoctorFirsts(patients=_int(n), visits=_int(visits), cents=_int(cents))
    return out
