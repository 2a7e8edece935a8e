"""``cohorts``: first patients by month of their first visit × months since, with retention (the share
who had a visit that happened in that month) and cumulative net revenue per patient."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.owner.patients import first_patients
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


def _month(d: dt.datetime) -> int:
    return d.year * 12 + d.month - 1


def compute(ctx: ReportContext) -> ReportResult:
    currency = ctx.currency
    lines = first_patients(
        org=ctx.org, start=ctx.start_utc(), end=ctx.end_utc(), branch=ctx.branch, currency=currency
    )
    tz = ctx.branch.tz if ctx.branch is not None else dt.UTC
    cohorts: dict[int, list[Any]] = defaultdict(list)
    for line in lines.values():
        cohorts[_month(line.first_at.astimezone(tz))].append(line)
    rows: list[dict[str, Any]] = []
    for month in sorted(cohorts):
        members = cohorts[month]
        row: dict[str, Any] = {"cohort": f"{month // 12:04d}-{month % 12 + 1:02d}", "patients": len(members)}
        active: dict[int, int] = defaultdict(int)
        revenue: dict[int, Decimal] = defaultdict(Decimal)
        for line in members:
            for k in {_month(v.astimezone(tz)) - month for v in line.visits}:
                active[k] += 1
            for at, amount in line.payments:
                revenue[max(0, _month(at.astimezone(tz)) - month)] += amount
        for k in range(1, MONTHS + 1):
            row[f"m{k}"] = ratio(active.get(k, 0), len(members))
        cumulative = Decimal(0)
        for k in range(0, max(REVENUE_AT) + 1):
            cumulative += revenue.get(k, Decimal(0))
            if k in REVENUE_AT:
                row[f"rev{k}"] = (cumulative / len(members)).quantize(Decimal("0.01"))
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
