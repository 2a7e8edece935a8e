"""The patients of ``clv_classes`` and ``recall_candidates`` ranked by the database straight from the raw
tables (issue #17): the reports read ``owner.value_facts`` (built by the same ranking when predictions
are stored); this per-request statement is the tests' reference and the benchmark's anchor. Each
patient with a stored prediction (``PatientPrediction``) in the report's currency, their net revenue to
date in that currency (payments less refunds, the organisation's ``value_to_date``) and predicted value,
in cents, numbered by total value (highest first; the patient id breaks ties, as ``str(uuid)`` does).
The classes are grouped and the recall list cut in the same statement, so no patient is read into
Python but the (at most ``RECALL_ROWS``) recalled ones. PostgreSQL and SQLite (window functions)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from clinicflow.acquisition.attribution import REFUND
from clinicflow.analytics.owner.factsql import qs_sql
from clinicflow.analytics.owner.value_facts import ClassSums, Valued, money_of_cents
from clinicflow.booking.models import Payment
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import PatientPrediction


def _cents(col: str) -> str:
    """A two-place decimal column in whole cents (exact: SQLite holds it as a real)."""
    return f"CAST(ROUND({col} * 100) AS BIGINT)"


def _predictions(org: Organization, currency: str, branch: Branch | None) -> QuerySet[PatientPrediction]:
    preds = PatientPrediction.objects.for_org(org).filter(currency=currency).order_by()
    return preds if branch is None else preds.filter(patient__branch=branch)


def _ranked(*, org: Organization, currency: str, branch: Branch | None) -> tuple[str, list[Any]]:
    """``ranked``: patient_id, hist (cents), pred (cents), p_alive, rn (1 = most valuable), n (all)."""
    pays = Payment.objects.for_org(org).filter(currency=currency).order_by()
    pay_sql, pay_params = qs_sql(pays.values_list("patient_id", "kind", "amount"))
    pred_sql, pred_params = qs_sql(
        _predictions(org, currency, branch).values_list("patient_id", "clv", "p_alive")
    )
    cents = _cents("pay.amount")
    sql = (
        f"WITH hist AS (SELECT pay.patient_id AS patient_id, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        f"CAST(SUM(CASE WHEN pay.kind = %s THEN -{cents} ELSE {cents} END) AS BIGINT) AS cents "
        f"FROM ({pay_sql}) pay GROUP BY pay.patient_id), "
        f"valued AS (SELECT pr.patient_id AS patient_id, COALESCE(h.cents, 0) AS hist, "
        f"{_cents('pr.clv')} AS pred, pr.p_alive AS p_alive "
        f"FROM ({pred_sql}) pr LEFT JOIN hist h ON h.patient_id = pr.patient_id), "
        "ranked AS (SELECT patient_id, hist, pred, p_alive, "
        "ROW_NUMBER() OVER (ORDER BY hist + pred DESC, patient_id) AS rn, COUNT(*) OVER () AS n FROM valued)"
    )
    return sql, [REFUND, *pay_params, *pred_params]


def class_sums(
    *, org: Organization, currency: str, branch: Branch | None, shares: tuple[Decimal, Decimal]
) -> tuple[int, dict[str, ClassSums]]:
    """(patients with a prediction, sums per class): A the first ``int(n × shares[0])`` by value, B the
    next ``int(n × shares[1])``, C the rest. One statement."""
    ranked, params = _ranked(org=org, currency=currency, branch=branch)
    a, b = (s.as_integer_ratio() for s in shares)  # int(n × p/q) = n × p // q
    cut_a, cut_b = f"(n * {a[0]} / {a[1]})", f"(n * {b[0]} / {b[1]})"
    sql = (
        f"{ranked} SELECT CASE WHEN rn <= {cut_a} THEN 'A' "  # nosec B608 # noqa: S608 - constants
        f"WHEN rn <= {cut_a} + {cut_b} THEN 'B' ELSE 'C' END AS klass, "
        "COUNT(*), SUM(hist), SUM(pred), MAX(n) FROM ranked GROUP BY 1"
    )
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(sql, params)
        rows = cur.fetchall()
    sums = {
        k: ClassSums(int(count), money_of_cents(hist), money_of_cents(pred))
        for k, count, hist, pred, _n in rows
    }
    return (int(rows[0][4]) if rows else 0), sums


def has_predictions(*, org: Organization, currency: str, branch: Branch | None) -> bool:
    return _predictions(org, currency, branch).exists()


def lapsing_top(
    *, org: Organization, currency: str, branch: Branch | None, alive_below: float, rows: int
) -> list[Valued]:
    """The first ``rows`` of the top fifth by value (at least one patient) whose P(alive) is below
    ``alive_below``, the most valuable first. One statement."""
    ranked, params = _ranked(org=org, currency=currency, branch=branch)
    sql = (
        f"{ranked} SELECT patient_id, hist, pred, p_alive FROM ranked "  # nosec B608 # noqa: S608 - constants
        "WHERE rn <= CASE WHEN n / 5 < 1 THEN 1 ELSE n / 5 END AND p_alive < %s "
        f"ORDER BY rn LIMIT {int(rows)}"
    )
    with connection.cursor() as cur:
        # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
        cur.execute(sql, [*params, alive_below])
        found = cur.fetchall()
    return [
        Valued(
            p if isinstance(p, uuid.UUID) else uuid.UUID(str(p)),
            money_of_cents(hist),
            money_of_cents(pred),
            float(alive),
        )
        for p, hist, pred, alive in found
    ]
