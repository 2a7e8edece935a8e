"""Patient base report: new patients per month by source."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    ReportContext,
    ReportResult,
    ReportSpec,
    register,
)
from clinicflow.patients.models import Patient, Source


def compute(ctx: ReportContext) -> ReportResult:
    qs = Patient.objects.for_org(ctx.org).filter(
        merged_into__isnull=True, created_at__gte=ctx.start_utc(), created_at__lt=ctx.end_utc()
    )
    if ctx.branch is not None:
        qs = qs.filter(branch=ctx.branch)
    tz = ctx.branch.tz if ctx.branch is not None else None
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in (
        qs.annotate(month=TruncMonth("created_at", tzinfo=tz))
        .values("month", "source")
        .annotate(n=Count("id"))
    ):
        counts[row["month"].strftime("%Y-%m")][row["source"]] += row["n"]
    rows: list[dict[str, object]] = []
    per_source = dict.fromkeys(Source.values, 0)
    for month in sorted(counts):
        line: dict[str, object] = {"month": month}
        for source in Source.values:
            line[source] = counts[month].get(source, 0)
            per_source[source] += counts[month].get(source, 0)
        line["total"] = sum(counts[month].values())
        rows.append(line)
    totals = {"month": str(_("Total")), "total": sum(per_source.values()), **per_source}
    return ReportResult(rows=rows, totals=totals if rows else None)


register(
    ReportSpec(
        name="new_patients",
        title=_("New patients by source"),
        description=_("Patients registered in the period, per month and source."),
        permission="reports.view",
        columns=(
            Column("month", _("Month")),
            *(Column(value, label, "int") for value, label in Source.choices),
            Column("total", _("Total"), "int"),
        ),
        compute=compute,
        chart=ChartSpec(type="bar", x="month", series=tuple(Source.values), stacked=True),
        default_days=365,
    )
)
