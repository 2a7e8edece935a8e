"""``cohorts``: first patients by month of their first visit × months since, with retention (the share
who had a visit that happened in that month) and cumulative net revenue per patient — grouped by the
database (``owner.grouped.cohort_cells``; the first patients are ``owner.patients.first_patients``'s),
read from the daily cohort facts (``owner.cohort_facts``: the first visit's local day and months on the
clock of its branch)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.owner.cohort_reads import cohort_cells_facts
from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    ReportContext,
    ReportResult,
    ReportSpec,
    ratio,
    register,
)

MONTHS = 12
REVENUE_AT = (0, 3, 6, 12)


def compute(ctx: ReportContext) -> ReportResult:
    currency = ctx.currency
    cells = cohort_cells_facts(
        org=ctx.org,
        d0=ctx.date_from,
        d1=ctx.date_to,
        branch=ctx.branch,
        currency=currency,
        months=max(MONTHS, *REVENUE_AT),
    )
    rows: list[dict[str, Any]] = []
    for month in sorted(cells.patients):
        n = cells.patients[month]
        row: dict[str, Any] = {"cohort": f"{month // 12:04d}-{month % 12 + 1:02d}", "patients": n}
        for k in range(1, MONTHS + 1):
            row[f"m{k}"] = ratio(cells.active.get((month, k), 0), n)
        cumulative = 0
        for k in range(0, max(REVENUE_AT) + 1):
            cumulative += cells.revenue.get((month, k), 0)
            if k in REVENUE_AT:
                row[f"rev{k}"] = (Decimal(cumulative) / 100 / n).quantize(Decimal("0.01"))
        rows.append(row)
    notes = [
        str(
            _("Retention: the share of the cohort with a visit that happened in that month after the first.")
        ),
        str(_("Months not yet reached count as not retained; read recent cohorts' right-hand cells so.")),
    ]
    return ReportResult(rows=rows, notes=notes, currency=currency)


register(
    ReportSpec(
        name="cohorts",
        title=_("Cohorts and retention"),
        description=_(
            "First patients by month of first visit: retention and cumulative revenue per patient."
        ),
        permission="reports.owner",
        columns=(
            Column("cohort", _("Month of first visit")),
            Column("patients", _("First patients"), "int"),
            *(Column(f"m{k}", format_lazy(_("Month {n}"), n=k), "percent") for k in range(1, MONTHS + 1)),
            *(
                Column(f"rev{k}", format_lazy(_("Revenue per patient by month {n}"), n=k), "money")
                for k in REVENUE_AT
            ),
        ),
        compute=compute,
        chart=ChartSpec(type="line", x="cohort", series=("m1", "m3", "m6", "m12")),
        default_days=365,
    )
)
