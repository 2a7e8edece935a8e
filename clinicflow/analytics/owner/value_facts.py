"""The lifetime-value facts (``PatientValueFact``, ``ValueClassFact``; issue #17) built and read.

``build_value_facts`` ranks every patient with a stored prediction by the database in one statement,
as ``reports.owner.value_sql`` (the raw statement, kept as the reference) does per request: net revenue
to date in the prediction's currency (payments less refunds, in cents) plus the predicted value, the
highest first, the patient id breaking ties, numbered in the chain and in the patient's branch; A = the
first ⌊n × 0.2⌋, B the next ⌊n × 0.3⌋, C the rest; the recall list the top ⌊n / 5⌋ (at least one) with
P(alive) below one half. Then each class's sums. It runs on a full rebuild and whenever predictions are
stored (``fact_hooks``), so the classes and the recall order are those of that moment.

``refresh_value_facts`` follows payments between builds (the incremental update, ``owner.changes``): the
changed patients' revenue to date read again, their rows and their classes' sums changed by the
difference — a patient keeps their class and place until the next build, their revenue is current.

The reports read at most ``(branches + 1) × 3`` class rows and ``RECALL_ROWS`` recall rows by index, so
their cost does not grow with the patients or the payments."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import BigIntegerField, Count, F, Q, Sum
from django.db.models.functions import Cast, Round

from clinicflow.analytics.owner.fact_clear import clear, row_id
from clinicflow.analytics.owner.factsql import execute, qs_sql, tune
from clinicflow.analytics.owner.grouped import signed_cents
from clinicflow.analytics.owner.value_models import PatientValueFact, ValueClassFact
from clinicflow.booking.models import Payment
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import PatientPrediction

SHARES = (Decimal("0.2"), Decimal("0.3"))  # A: the top fifth of patients, B: the next three tenths
RECALL_ALIVE = 0.5  # P(alive) below this: lapsing


def _classed(rn: str, n: str) -> str:
    """The class of place ``rn`` of ``n``: ``int(n × share)`` each, as ``value_sql.class_sums``."""
    (a0, a1), (b0, b1) = (s.as_integer_ratio() for s in SHARES)
    cut_a, cut_b = f"({n} * {a0} / {a1})", f"({n} * {b0} / {b1})"
    return f"CASE WHEN {rn} <= {cut_a} THEN 'A' WHEN {rn} <= {cut_a} + {cut_b} THEN 'B' ELSE 'C' END"


def _lapsing(rn: str, n: str) -> str:
    """1 when place ``rn`` of ``n`` is in the top fifth (at least one) with P(alive) below the cut."""
    return (
        f"CASE WHEN p_alive < %s AND {rn} <= CASE WHEN {n} / 5 < 1 THEN 1 ELSE {n} / 5 END THEN 1 ELSE 0 END"
    )


def _insert_patients(org: Organization) -> int:
    pays = (
        Payment.objects.for_org(org)
        .order_by()
        .values("patient_id", "currency")
        .annotate(c=Sum(signed_cents()))
    )
    pay_sql, pay_params = qs_sql(pays.values("patient_id", "currency", "c"))
    preds = PatientPrediction.objects.for_org(org).order_by()
    pred_sql, pred_params = qs_sql(
        preds.values(
            "organization_id",
            "patient_id",
            "currency",
            "p_alive",
            b=F("patient__branch_id"),
            pred=Cast(Round(F("clv") * 100), BigIntegerField()),
        )
    )
    table = PatientValueFact._meta.db_table
    i = row_id()
    sql = (
        f"INSERT INTO {table} (id, organization_id, patient_id, branch_id, currency, hist_cents, "  # nosec B608 # noqa: S608 - ORM SQL and constants, values bound
        "pred_cents, p_alive, rank, branch_rank, klass, branch_klass, recall, branch_recall) "
        f"WITH hist AS ({pay_sql}), pr AS ({pred_sql}), "
        "valued AS (SELECT pr.organization_id AS org, pr.patient_id AS patient_id, pr.b AS b, "
        "pr.currency AS currency, COALESCE(h.c, 0) AS hist, pr.pred AS pred, pr.p_alive AS p_alive "
        "FROM pr LEFT JOIN hist h ON h.patient_id = pr.patient_id AND h.currency = pr.currency), "
        "ranked AS (SELECT v.*, "
        "ROW_NUMBER() OVER (PARTITION BY currency ORDER BY hist + pred DESC, patient_id) AS rn, "
        "COUNT(*) OVER (PARTITION BY currency) AS n, "
        "ROW_NUMBER() OVER (PARTITION BY currency, b ORDER BY hist + pred DESC, patient_id) AS brn, "
        "COUNT(*) OVER (PARTITION BY currency, b) AS bn FROM valued v), "
        f"classed AS (SELECT r.*, {_classed('rn', 'n')} AS klass, {_classed('brn', 'bn')} AS bklass, "
        f"{_lapsing('rn', 'n')} AS lap, {_lapsing('brn', 'bn')} AS blap FROM ranked r) "
        f"SELECT {i}, org, patient_id, b, currency, hist, pred, p_alive, rn, brn, klass, bklass, "
        "CASE WHEN lap = 1 THEN ROW_NUMBER() OVER (PARTITION BY currency, lap ORDER BY rn) END, "
        "CASE WHEN blap = 1 AND b IS NOT NULL "
        "THEN ROW_NUMBER() OVER (PARTITION BY currency, b, blap ORDER BY brn) END FROM classed "
        "ORDER BY patient_id"  # the (organisation, patient) index written a page after another
    )
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    return execute(sql, (*pay_params, *pred_params, RECALL_ALIVE, RECALL_ALIVE))


def _insert_classes(org: Organization) -> int:
    rows = PatientValueFact.objects.for_org(org).order_by()
    sums = {"patients": Count("id"), "hist": Sum("hist_cents"), "pred": Sum("pred_cents")}
    grouped: list[dict[str, Any]] = [
        {**r, "branch_id": None} for r in rows.values("currency", "klass").annotate(**sums)
    ]
    grouped += [
        {**r, "klass": r["branch_klass"]}
        for r in rows.filter(branch_id__isnull=False)
        .values("currency", "branch_id", "branch_klass")
        .annotate(**sums)
    ]
    facts = [
        ValueClassFact(
            organization=org,
            branch_id=r["branch_id"],
            currency=r["currency"],
            klass=r["klass"],
            patients=int(r["patients"]),
            hist_cents=int(r["hist"] or 0),
            pred_cents=int(r["pred"] or 0),
        )
        for r in grouped
    ]
    ValueClassFact.objects.bulk_create(facts)
    return len(facts)


def build_value_facts(org: Organization) -> int:
    """Rank and class every patient with a stored prediction again; returns the rows written."""
    with transaction.atomic():
        tune()  # the ranking in memory, no JIT compilation (``factsql.TUNED``)
        clear(org, PatientValueFact, ValueClassFact)  # truncated when no other organisation's
        return _insert_patients(org) + _insert_classes(org)


def refresh_value_facts(org: Organization, patients: Collection[uuid.UUID | None]) -> int:
    """The revenue to date of these patients' rows read again from their payments; each class's sums
    changed by the difference. Returns the rows changed."""
    ids = [p for p in patients if p is not None]
    if not ids:
        return 0
    rows = list(PatientValueFact.objects.for_org(org).filter(patient_id__in=ids))
    if not rows:
        return 0
    paid = {
        (r["patient_id"], r["currency"]): int(r["c"] or 0)
        for r in Payment.objects.for_org(org)
        .filter(patient_id__in=[r.patient_id for r in rows])
        .order_by()
        .values("patient_id", "currency")
        .annotate(c=Sum(signed_cents()))
    }
    delta: dict[tuple[uuid.UUID | None, str, str], int] = defaultdict(int)
    changed = []
    for row in rows:
        now = paid.get((row.patient_id, row.currency), 0)
        if now != row.hist_cents:
            delta[(None, row.currency, row.klass)] += now - row.hist_cents
            if row.branch_id is not None:
                delta[(row.branch_id, row.currency, row.branch_klass)] += now - row.hist_cents
            row.hist_cents = now
            changed.append(row)
    with transaction.atomic():
        PatientValueFact.objects.bulk_update(changed, ["hist_cents"], batch_size=1000)
        for (branch, currency, klass), cents in delta.items():
            ValueClassFact.objects.for_org(org).filter(
                branch_id=branch, currency=currency, klass=klass
            ).update(hist_cents=F("hist_cents") + cents)
    return len(changed)


# --- the reads ------------------------------------------------------------------------------------


def money_of_cents(cents: int | None) -> Decimal:
    """Cents summed by the database as the currency's amount (two minor digits)."""
    return Decimal(int(cents or 0)).scaleb(-2)


@dataclass(frozen=True)
class ClassSums:
    patients: int
    historical: Decimal
    predicted: Decimal


@dataclass(frozen=True)
class Valued:
    patient_id: uuid.UUID
    historical: Decimal
    predicted: Decimal
    p_alive: float


def class_sums(
    *, org: Organization, currency: str, branch: Branch | None
) -> tuple[int, dict[str, ClassSums]]:
    """(patients with a prediction, sums per class) of the chain or a branch: one indexed read."""
    qs = ValueClassFact.objects.for_org(org).filter(
        currency=currency, branch_id=branch.pk if branch is not None else None
    )
    sums = {
        k: ClassSums(int(n), money_of_cents(h), money_of_cents(p))
        for k, n, h, p in qs.values_list("klass", "patients", "hist_cents", "pred_cents")
    }
    return sum(s.patients for s in sums.values()), sums


def lapsing_top(*, org: Organization, currency: str, branch: Branch | None, rows: int) -> list[Valued]:
    """The first ``rows`` of the recall list (the chain's or the branch's): one indexed read."""
    qs = PatientValueFact.objects.for_org(org).filter(currency=currency)
    if branch is None:
        qs = qs.filter(recall__isnull=False).order_by("recall")
    else:
        qs = qs.filter(Q(branch_id=branch.pk), branch_recall__isnull=False).order_by("branch_recall")
    return [
        Valued(p, money_of_cents(h), money_of_cents(c), float(a))
        for p, h, c, a in qs.values_list("patient_id", "hist_cents", "pred_cents", "p_alive")[:rows]
    ]


def has_value_facts(*, org: Organization, currency: str, branch: Branch | None) -> bool:
    qs: Any = ValueClassFact.objects.for_org(org).filter(currency=currency)
    return bool(qs.filter(branch_id=branch.pk if branch is not None else None).exists())
