"""``scorecards``: each department's score with its parts (value, the previous period's, the part's
score and weight) and its trend (``owner.scorecards``: the one definition of every part)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.owner.scorecards import scorecards
from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    ReportContext,
    ReportResult,
    ReportSpec,
    register,
)


def compute(ctx: ReportContext) -> ReportResult:
    rows: list[dict[str, Any]] = []
    for card in scorecards(org=ctx.org, date_from=ctx.date_from, date_to=ctx.date_to, branch=ctx.branch):
        rows.append(
            {
                "department": card.label,
                "part": str(_("Score")),
                "value": None,
                "previous": None,
                "weight": None,
                "score": card.score,
                "trend": card.trend,
            }
        )
        for p in card.parts:
            rows.append(
                {
                    "department": card.label,
                    "part": p.label,
                    "value": round(p.value, 4) if p.value is not None else None,
                    "previous": round(p.previous, 4) if p.previous is not None else None,
                    "weight": p.weight,
                    "score": p.score,
                    "trend": None,
                }
            )
    notes = [
        str(
            _(
                "A part scores 100 x value / (value + previous value) when higher is better, "
                "100 x previous value / (value + previous value) when lower is better: 50 is unchanged."
            )
        ),
        str(
            _(
                "The score of a department is the weighted mean of the scores of its parts; "
                "the owner sets the weights."
            )
        ),
        str(_("Marketing is never scored on revenue (seed 003).")),
    ]
    return ReportResult(rows=rows, notes=notes)


register(
    ReportSpec(
        name="scorecards",
        title=_("Department scorecards"),
        description=_(
            "Marketing, consultants, front desk, customer service and doctors, each on the stages it owns."
        ),
        permission="reports.owner",
        columns=(
            Column("department", _("Department")),
            Column("part", _("Part")),
            Column("value", _("Value"), "float"),
            Column("previous", _("Previous period"), "float"),
            Column("weight", _("Weight"), "int"),
            Column("score", _("Score"), "float"),
            Column("trend", _("Trend"), "float"),
        ),
        compute=compute,
        chart=ChartSpec(type="bar", x="part", series=("score",)),
        default_days=28,
    )
)
