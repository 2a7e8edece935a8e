"""``clv_classes`` and ``recall_candidates`` read from the lifetime-value facts (``owner.value_facts``, built
when predictions are stored) and the raw statement ranking the patients straight from the payments and
predictions (``reports.owner.value_sql``) give exactly what the former Python implementation (kept below
as the reference: every patient's net revenue and prediction read, sorted in Python) gave: on a
simulated clinic with stored predictions, for the chain and each branch, with ties on total value,
patients with refunds only, and none at all. The predictions are changed in bulk here (no hook), so
the facts are built again after each change, as storing predictions does."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinicflow.analytics.owner import value_facts
from clinicflow.analytics.owner.patients import value_to_date
from clinicflow.analytics.reports.base import (
    ReportContext,
    ReportResult,
    exact_money,
    get_report,
    json_value,
    ratio,
)
from clinicflow.analytics.reports.owner import value_sql
from clinicflow.analytics.reports.owner.value import (
    CLASSES,
    NO_PREDICTIONS,
    RECALL_ALIVE,
    RECALL_ROWS,
    compute_classes,
    compute_recall,
)
from clinicflow.booking.models import Payment
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient, PatientPrediction
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 11, 30)


# --- the former implementation (reference) --------------------------------------------------------


def _valued(ctx: ReportContext) -> list[tuple[Any, Decimal, Decimal, float]]:
    history = value_to_date(org=ctx.org, currency=ctx.currency)
    preds = PatientPrediction.objects.for_org(ctx.org).filter(currency=ctx.currency)
    if ctx.branch is not None:
        preds = preds.filter(patient__branch=ctx.branch)
    rows = [
        (p, history.get(p, Decimal(0)), Decimal(clv), float(alive))
        for p, clv, alive in preds.values_list("patient_id", "clv", "p_alive")
    ]
    return sorted(rows, key=lambda r: (-(r[1] + r[2]), str(r[0])))


def reference_classes(ctx: ReportContext) -> ReportResult:
    valued = _valued(ctx)
    if not valued:
        return ReportResult(rows=[], notes=[str(NO_PREDICTIONS)])
    rows: list[dict[str, Any]] = []
    at = 0
    for i, (name, share) in enumerate(CLASSES):
        n = len(valued) - at if i == len(CLASSES) - 1 else int(len(valued) * share)
        part = valued[at : at + n]
        at += n
        hist = sum((r[1] for r in part), Decimal(0))
        pred = sum((r[2] for r in part), Decimal(0))
        rows.append(
            {
                "klass": name,
                "patients": len(part),
                "historical": hist,
                "predicted": pred,
                "per_patient": ((hist + pred) / len(part)).quantize(Decimal("0.01")) if part else None,
                "value_share": None,
            }
        )
    total = sum((r["historical"] + r["predicted"] for r in rows), Decimal(0))
    for r in rows:
        r["value_share"] = ratio(r["historical"] + r["predicted"], total)
    return ReportResult(rows=rows)


def reference_recall(ctx: ReportContext) -> ReportResult:
    valued = _valued(ctx)
    if not valued:
        return ReportResult(rows=[], notes=[str(NO_PREDICTIONS)])
    top = valued[: max(1, len(valued) // 5)]
    lapsing = [r for r in top if r[3] < RECALL_ALIVE][:RECALL_ROWS]
    names = {
        p.pk: f"{p.last_name} {p.first_name}"
        for p in Patient.objects.for_org(ctx.org).filter(pk__in=[r[0] for r in lapsing])
    }
    rows = [
        {"name": names.get(p, str(p)), "historical": hist, "predicted": pred, "p_alive": alive}
        for p, hist, pred, alive in lapsing
    ]
    return ReportResult(rows=rows)


# --- the equality ----------------------------------------------------------------------------------


@pytest.fixture
def clinic(org: Organization) -> Organization:
    simulate_org(
        org=org,
        scenario=load_scenario(overrides={"clinic": {"months": 3, "end_date": END.isoformat()}}),
        seed=5,
    )
    call_command("analytics", "clv", "--org", org.slug, "--until", str(END), stdout=io.StringIO())
    # three months are too short for anyone to lapse: every third patient's P(alive) falling
    preds = PatientPrediction.objects.for_org(org).order_by("patient_id")
    lapsing = list(preds.values_list("pk", flat=True))[::3]
    for i, pk in enumerate(lapsing):
        PatientPrediction.objects.filter(pk=pk).update(p_alive=(i % 10) / 20)
    return org


def _ctx(org: Organization, branch: Branch | None) -> ReportContext:
    return ReportContext(
        org=org, user=None, date_from=END - dt.timedelta(days=89), date_to=END, branch=branch
    )


def _shown(name: str, ctx: ReportContext, result: ReportResult) -> list[dict[str, Any]]:
    """The rows as the page, the API and the exports show them (money in minor units)."""
    result.currency = ctx.currency
    exact_money(get_report(name), result)
    return [{k: json_value(v) for k, v in r.items()} for r in result.rows]


def _same(org: Organization, *, build: bool = True) -> int:
    """Both reports (the facts built again first, unless ``build`` is off) equal the reference for the
    chain and every branch, and so does the raw statement; the rows compared."""
    if build:
        value_facts.build_value_facts(org)
    compared = 0
    for branch in [None, *Branch.objects.filter(organization=org)]:
        ctx = _ctx(org, branch)
        shares = (CLASSES[0][1], CLASSES[1][1])
        raw = value_sql.class_sums(org=org, currency=ctx.currency, branch=branch, shares=shares)
        facts = value_facts.class_sums(org=org, currency=ctx.currency, branch=branch)
        assert (raw[0], {k: tuple(v.__dict__.values()) for k, v in raw[1].items()}) == (
            facts[0],
            {k: tuple(v.__dict__.values()) for k, v in facts[1].items()},
        )
        raw_top = value_sql.lapsing_top(
            org=org, currency=ctx.currency, branch=branch, alive_below=RECALL_ALIVE, rows=RECALL_ROWS
        )
        top = value_facts.lapsing_top(org=org, currency=ctx.currency, branch=branch, rows=RECALL_ROWS)
        assert [tuple(v.__dict__.values()) for v in raw_top] == [tuple(v.__dict__.values()) for v in top]
        classes, ref = compute_classes(ctx), reference_classes(ctx)
        assert classes.rows == ref.rows  # the figures, before rounding to the currency
        assert _shown("clv_classes", ctx, classes) == _shown("clv_classes", ctx, ref)
        recall, ref_recall = compute_recall(ctx), reference_recall(ctx)
        assert recall.rows == ref_recall.rows
        assert _shown("recall_candidates", ctx, recall) == _shown("recall_candidates", ctx, ref_recall)
        if not ref.rows:
            assert classes.notes == ref.notes == [str(NO_PREDICTIONS)]
        if not ref_recall.rows:
            assert (recall.notes == [str(NO_PREDICTIONS)]) == (ref_recall.notes == [str(NO_PREDICTIONS)])
        compared += len(classes.rows) + len(recall.rows)
    return compared


@pytest.mark.django_db
def test_classes_and_recall_equal_the_former_implementation(clinic: Organization) -> None:
    org = clinic
    preds = PatientPrediction.objects.for_org(org)
    n = preds.count()
    assert n > 100 and preds.filter(p_alive__lt=RECALL_ALIVE).exists()
    value_facts.build_value_facts(org)  # the fixture changed P(alive) in bulk
    assert _same(org, build=False) > 6
    assert any(r["patients"] for r in compute_classes(_ctx(org, None)).rows)
    ctx = _ctx(org, None)
    with CaptureQueriesContext(connection) as q:
        compute_classes(ctx)
    assert len(q) == 1  # the class rows (the former read every payment, then every prediction)
    with CaptureQueriesContext(connection) as q:
        rows = compute_recall(ctx).rows
    assert rows and len(q) == 2  # the recall rows, then the recalled patients' names (former: 3)


@pytest.mark.django_db
def test_ties_refunds_and_boundaries_equal_the_former_implementation(clinic: Organization) -> None:
    org = clinic
    ids = list(PatientPrediction.objects.for_org(org).order_by("patient_id").values_list("pk", flat=True))
    # a third of the patients tie on one predicted value, many on a total of their revenue plus it;
    # half of those lapsing, so the recall list cuts through ties
    PatientPrediction.objects.filter(pk__in=ids[::3]).update(clv=Decimal("1000.00"), p_alive=0.25)
    PatientPrediction.objects.filter(pk__in=ids[1::6]).update(clv=Decimal("0.00"))
    # a patient whose only money is a refund, worth less than nothing to date
    pay = Payment.objects.for_org(org).filter(currency=org.currency).order_by("paid_at").first()
    assert pay is not None
    refunded = Patient.objects.for_org(org).exclude(pk__in=Payment.objects.values("patient_id")).first()
    if refunded is not None:
        Payment.objects.create(
            organization=org,
            patient=refunded,
            branch=pay.branch,
            amount=Decimal("123.45"),
            currency=org.currency,
            method="cash",
            kind="refund",
            paid_at=pay.paid_at,
        )
    assert _same(org) > 6
    # every boundary of the classes' sizes: 1 to 11 patients with a prediction
    keep = ids[:11]
    PatientPrediction.objects.for_org(org).exclude(pk__in=keep).delete()
    for k in range(len(keep), 0, -1):
        PatientPrediction.objects.filter(pk__in=keep[k:]).delete()
        _same(org)
    PatientPrediction.objects.for_org(org).delete()
    value_facts.build_value_facts(org)
    assert compute_classes(_ctx(org, None)).notes == [str(NO_PREDICTIONS)]
    assert compute_recall(_ctx(org, None)).notes == [str(NO_PREDICTIONS)]
