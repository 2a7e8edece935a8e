"""``clv_classes`` (A/B/C by historical plus predicted lifetime value) and ``recall_candidates`` (high
value, low P(alive)), from the lifetime-value facts (``owner.value_facts``: the stored predictions,
written by ``clinicflow analytics clv --org``, and net revenue to date, ranked and classed when the
predictions are stored or the facts rebuilt, revenue kept current as payments change); each report is
one indexed read of at most a few rows (``value_sql`` is the same ranking straight from the raw tables,
the equality test's reference)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.owner.value_facts import RECALL_ALIVE as RECALL_ALIVE  # the tests' cut
from clinicflow.analytics.owner.value_facts import SHARES, ClassSums, class_sums, lapsing_top
from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    ReportContext,
    ReportResult,
    ReportSpec,
    ratio,
    register,
)
from clinicflow.analytics.reports.owner.value_sql import has_predictions
from clinicflow.patients.models import Patient

CLASSES = (("A", SHARES[0]), ("B", SHARES[1]), ("C", Decimal("0.5")))  # shares of patients
RECALL_ROWS = 200
NO_PREDICTIONS = _(
    "No data yet: run 'clinicflow analytics clv --org SLUG' to store lifetime-value predictions."
)


def compute_classes(ctx: ReportContext) -> ReportResult:
    n, sums = class_sums(org=ctx.org, currency=ctx.currency, branch=ctx.branch)
    if not n:
        return ReportResult(rows=[], notes=[str(NO_PREDICTIONS)])
    rows: list[dict[str, Any]] = []
    for name, _share in CLASSES:
        part = sums.get(name, ClassSums(0, Decimal(0), Decimal(0)))
        hist, pred = part.historical, part.predicted
        rows.append(
            {
                "klass": name,
                "patients": part.patients,
                "historical": hist,
                "predicted": pred,
                "per_patient": ((hist + pred) / part.patients).quantize(Decimal("0.01"))
                if part.patients
                else None,
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
    org, currency, branch = ctx.org, ctx.currency, ctx.branch
    lapsing = lapsing_top(org=org, currency=currency, branch=branch, rows=RECALL_ROWS)
    if not lapsing and not has_predictions(org=org, currency=currency, branch=branch):
        return ReportResult(rows=[], notes=[str(NO_PREDICTIONS)])
    names = (
        {
            p.pk: f"{p.last_name} {p.first_name}"
            for p in Patient.objects.for_org(ctx.org).filter(pk__in=[r.patient_id for r in lapsing])
        }
        if lapsing
        else {}
    )
    rows = [
        {
            "name": names.get(r.patient_id, str(r.patient_id)),
            "historical": r.historical,
            "predicted": r.predicted,
            "p_alive": r.p_alive,
        }
        for r in lapsing
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
