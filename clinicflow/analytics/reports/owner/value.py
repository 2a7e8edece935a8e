"""``clv_classes`` (A/B/C by historical plus predicted lifetime value) and ``recall_candidates`` (high
value, low P(alive)), from the stored predictions (``PatientPrediction``, written by
``clinicflow analytics clv --org``) and net revenue to date."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.owner.patients import value_to_date
from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    ReportContext,
    ReportResult,
    ReportSpec,
    ratio,
    register,
)
from clinicflow.patients.models import Patient, PatientPrediction

CLASSES = (("A", Decimal("0.2")), ("B", Decimal("0.3")), ("C", Decimal("0.5")))  # shares of patients
RECALL_ALIVE = 0.5  # P(alive) below this: lapsing
RECALL_ROWS = 200
NO_PREDICTIONS = _(
    "No data yet: run 'clinicflow analytics clv --org SLUG' to store lifetime-value predictions."
)


def _valued(ctx: ReportContext) -> list[tuple[Any, Decimal, Decimal, float]]:
    """(patient, historical value, predicted value, P(alive)) of patients with a prediction in the
    report's currency, highest total value first."""
    history = value_to_date(org=ctx.org, currency=ctx.currency)
    preds = PatientPrediction.objects.for_org(ctx.org).filter(currency=ctx.currency)
    if ctx.branch is not None:
        preds = preds.filter(patient__branch=ctx.branch)
    rows = [
        (p, history.get(p, Decimal(0)), Decimal(clv), float(alive))
        for p, clv, alive in preds.values_list("patient_id", "clv", "p_alive")
    ]
    return sorted(rows, key=lambda r: (-(r[1] + r[2]), str(r[0])))


def compute_classes(ctx: ReportContext) -> ReportResult:
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
    notes = [
        str(
            _(
                "A: the top fifth of patients by historical plus predicted value; "
                "B: the next three tenths; C: the rest."
            )
        )
    ]
    return ReportResult(rows=rows, notes=notes)


def compute_recall(ctx: ReportContext) -> ReportResult:
    valued = _valued(ctx)
    if not valued:
        return ReportResult(rows=[], notes=[str(NO_PREDICTIONS)])
    top = valued[: max(1, len(valued) // 5)]  # class A
    lapsing = [r for r in top if r[3] < RECALL_ALIVE][:RECALL_ROWS]
    names = {
        p.pk: f"{p.last_name} {p.first_name}"
        for p in Patient.objects.for_org(ctx.org).filter(pk__in=[r[0] for r in lapsing])
    }
    rows = [
        {
            "name": names.get(p, str(p)),
            "historical": hist,
            "predicted": pred,
            "p_alive": alive,
        }
        for p, hist, pred, alive in lapsing
    ]
    notes = [
        str(
            _(
                "Class A patients (the top fifth by value) whose P(alive) is below one half, "
                "the most valuable first."
            )
        ),
        str(
            _("P(alive) is the latest stored prediction; its trend shows once predictions are kept per run.")
        ),
    ]
    return ReportResult(rows=rows, notes=notes)


register(
    ReportSpec(
        name="clv_classes",
        title=_("Client classes by lifetime value"),
        description=_("A/B/C classes of patients by historical and predicted lifetime value."),
        permission="reports.owner",
        columns=(
            Column("klass", _("Class")),
            Column("patients", _("Patients"), "int"),
            Column("historical", _("Historical value"), "money"),
            Column("predicted", _("Predicted value"), "money"),
            Column("per_patient", _("Value per patient"), "money"),
            Column("value_share", _("Share of value"), "percent"),
        ),
        compute=compute_classes,
        chart=ChartSpec(type="bar", x="klass", series=("historical", "predicted"), stacked=True),
    )
)
register(
    ReportSpec(
        name="recall_candidates",
        title=_("Patients worth a recall call"),
        description=_("High-value patients whose probability of still being a patient is falling."),
        permission="reports.owner",
        columns=(
            Column("name", _("Patient")),
            Column("historical", _("Historical value"), "money"),
            Column("predicted", _("Predicted value"), "money"),
            Column("p_alive", _("P(alive)"), "percent"),
        ),
        compute=compute_recall,
    )
)
