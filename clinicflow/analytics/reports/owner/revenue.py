"""``revenue``: net revenue by branch, service category, service or doctor, from the daily facts, with
the first-visit share; one row per currency when a chain takes several (never summed across them)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.owner.selectors import revenue_by
from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    Param,
    ReportContext,
    ReportResult,
    ReportSpec,
    ratio,
    register,
)
from clinicflow.booking.models import Doctor
from clinicflow.catalogue.models import Service
from clinicflow.core.selectors import branch_list

BY = Param(
    name="by",
    label=_("By"),
    choices=(
        ("branch", _("Branch")),
        ("category", _("Service category")),
        ("service", _("Service")),
        ("doctor", _("Doctor")),
    ),
    default="branch",
)


def _names(ctx: ReportContext, by: str) -> dict[Any, str]:
    if by == "branch":
        return {b.pk: b.display_name for b in branch_list(org=ctx.org)}
    if by == "doctor":
        return dict(Doctor.objects.for_org(ctx.org).values_list("pk", "full_name"))
    services = Service.objects.for_org(ctx.org)
    if by == "category":
        return dict(services.values_list("pk", "category"))
    return {s.pk: s.display_name for s in services}


def compute(ctx: ReportContext) -> ReportResult:
    by = ctx.params.get("by", "branch")
    lines = revenue_by(
        org=ctx.org,
        d0=ctx.date_from,
        d1=ctx.date_to,
        branch=ctx.branch,
        by="service" if by == "category" else by,
    )
    names = _names(ctx, by)
    cells: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    for line in lines:
        name = names.get(line.key, str(_("Unknown"))) if line.key is not None else str(_("No appointment"))
        if by == "category" and line.key is not None:
            name = str(dict(Service._meta.get_field("category").choices or []).get(name, name))
        cell = cells[(name, line.currency)]
        cell[0] += line.amount
        cell[1] += line.first
        cell[2] += line.payments
    currency = ctx.currency
    rows: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    for (name, cur), (amount, first, n) in sorted(cells.items(), key=lambda kv: (-kv[1][0], kv[0])):
        row = {
            "name": name,
            "currency_code": cur,
            "revenue": amount if cur == currency else None,
            "first_revenue": first if cur == currency else None,
            "repeat_revenue": amount - first if cur == currency else None,
            "first_share": ratio(first, amount),
            "payments": n,
        }
        (rows if cur == currency else other).append(row)
    notes = [
        str(_("Revenue: payments less refunds by the day paid (branch's local day), from the daily facts."))
    ]
    for r in other:
        notes.append(
            str(_("%(name)s: revenue in %(cur)s not summed with the report's currency."))
            % {"name": r["name"], "cur": r["currency_code"]}
        )
    totals = None
    if rows:
        rev = sum((r["revenue"] for r in rows), Decimal(0))
        first = sum((r["first_revenue"] for r in rows), Decimal(0))
        totals = {
            "name": str(_("Total")),
            "currency_code": currency,
            "revenue": rev,
            "first_revenue": first,
            "repeat_revenue": rev - first,
            "first_share": ratio(first, rev),
            "payments": sum(r["payments"] for r in rows),
        }
    return ReportResult(rows=rows, totals=totals, notes=notes, currency=currency)


register(
    ReportSpec(
        name="revenue",
        title=_("Revenue"),
        description=_(
            "Net revenue by branch, service category, service or doctor, with first and repeat revenue."
        ),
        permission="reports.owner",
        columns=(
            Column("name", _("Name")),
            Column("revenue", _("Revenue"), "money"),
            Column("first_revenue", _("First-visit revenue"), "money"),
            Column("repeat_revenue", _("Repeat revenue"), "money"),
            Column("first_share", _("First-visit share"), "percent"),
            Column("payments", _("Payments"), "int"),
        ),
        compute=compute,
        chart=ChartSpec(type="bar", x="name", series=("first_revenue", "repeat_revenue"), stacked=True),
        params=(BY,),
    )
)
