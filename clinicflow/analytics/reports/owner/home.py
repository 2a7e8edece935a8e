"""``owner_home`` as a report: one row per figure, then one per funnel step (also
``GET /api/v1/reports/owner_home``, CSV/XLSX and ``clinicflow report owner_home``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.owner.home import OwnerView, owner_view
from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    ReportContext,
    ReportResult,
    ReportSpec,
    json_value,
    register,
)
from clinicflow.core.formatting import fmt_percent


def _text(value: Any, kind: str = "") -> Any:
    """A figure's value for the text column: money as its exact Decimal, shares as a percentage of
    the page's language, other ratios to two places (never a float's long tail)."""
    if value is None or isinstance(value, str):
        return value
    if kind == "percent" and isinstance(value, float | Decimal):
        return fmt_percent(value)
    if kind == "float" and isinstance(value, float | Decimal):
        return str(Decimal(str(value)).quantize(Decimal("0.01")))
    if isinstance(value, Decimal):
        return str(value)
    return json_value(value)


def view_rows(view: OwnerView) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "section": "figure",
            "key": f.key,
            "name": f.label,
            "kind": f.kind,
            "value": _text(f.value, f.kind),
            "last_year": _text(f.last_year, f.kind),
            "conversion": None,
            "previous_conversion": None,
            "highlight": "",
            "report": f.report,
            "help": f.no_data or f.help,
        }
        for f in view.figures
    ]
    rows += [
        {
            "section": "funnel",
            "key": s.key,
            "name": s.label,
            "kind": "int",
            "value": s.count,
            "last_year": None,
            "conversion": s.conversion,
            "previous_conversion": s.previous_conversion,
            "highlight": "biggest_drop" if s.biggest_drop else "",
            "report": "",
            "help": s.help,
        }
        for s in view.steps
    ]
    return rows


def compute(ctx: ReportContext) -> ReportResult:
    view = owner_view(org=ctx.org, date_from=ctx.date_from, date_to=ctx.date_to, branch=ctx.branch)
    return ReportResult(rows=view_rows(view), notes=view.notes, currency=view.currency)


register(
    ReportSpec(
        name="owner_home",
        title=_("Owner home"),
        description=_(
            "Revenue, first and repeat share, load, new patients, acquisition cost, ROMI "
            "and the lifecycle funnel."
        ),
        permission="reports.owner",
        columns=(
            Column("section", _("Section")),
            Column("name", _("Figure")),
            Column("value", _("Value")),
            Column("last_year", _("Same period last year")),
            Column("conversion", _("Conversion"), "percent"),
            Column("previous_conversion", _("Previous period"), "percent"),
            Column("highlight", _("Flag")),
            Column("help", _("What it counts")),
        ),
        compute=compute,
        chart=ChartSpec(type="bar", x="name", series=("conversion", "previous_conversion")),
        default_days=30,
    )
)
