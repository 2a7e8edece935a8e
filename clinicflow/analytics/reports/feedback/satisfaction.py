"""NPS and CSAT by branch, doctor, consultant, service or month, each with the number of answers and
its 95% interval (``stats``). One grouped query over the answers of the period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    Param,
    ReportContext,
    ReportResult,
    ReportSpec,
    period_bounds,
    register,
)
from clinicflow.analytics.reports.feedback.stats import mean_interval, nps_interval
from clinicflow.core.models import Branch, Organization
from clinicflow.feedback.models import DETRACTOR_MAX, PROMOTER_MIN, SurveyAnswer

# group -> (the key column, the label column) of the answers
GROUPS: dict[str, tuple[str, str]] = {
    "doctor": ("doctor_id", "doctor__full_name"),
    "branch": ("branch_id", "branch__name"),
    "consultant": ("consultant_id", "consultant__full_name"),
    "service": ("service_id", "service__name"),
    "month": ("month", "month"),
}
GROUP_PARAM = Param(
    name="group",
    label=_("By"),
    choices=(
        ("doctor", _("Doctor")),
        ("branch", _("Branch")),
        ("consultant", _("Consultant")),
        ("service", _("Service")),
        ("month", _("Month")),
    ),
    default="doctor",
)


def satisfaction_rows(
    *,
    org: Organization,
    date_from: dt.date,
    date_to: dt.date,
    branch: Branch | None = None,
    group: str = "doctor",
) -> list[dict[str, Any]]:
    """Per group: answers, promoters, detractors, NPS with its 95% interval, CSAT mean with its."""
    key, label = GROUPS[group]
    start, end = period_bounds(date_from, date_to, branch)
    qs: QuerySet[Any] = SurveyAnswer.objects.for_org(org).filter(answered_at__gte=start, answered_at__lt=end)
    if branch is not None:
        qs = qs.filter(branch=branch)
    if group == "month":
        qs = qs.annotate(month=TruncMonth("answered_at", tzinfo=branch.tz if branch else dt.UTC))
    fields = (key,) if key == label else (key, label)
    rows = (
        qs.values(*fields)
        .annotate(
            n=Count("id"),
            promoters=Count("id", filter=Q(nps__gte=PROMOTER_MIN)),
            detractors=Count("id", filter=Q(nps__lte=DETRACTOR_MAX)),
            csat_sum=Sum("csat"),
            csat_sq=Sum(F("csat") * F("csat")),
        )
        .order_by(label, key)
    )
    out = []
    for r in rows:
        n = r["n"]
        nps, lo, hi = nps_interval(r["promoters"], r["detractors"], n)
        csat, c_lo, c_hi = mean_interval(float(r["csat_sum"] or 0), float(r["csat_sq"] or 0), n)
        name = r[label]
        if group == "month" and name is not None:
            name = name.date().isoformat()[:7] if isinstance(name, dt.datetime) else str(name)[:7]
        out.append(
            {
                "group": name if name is not None else "—",
                "group_id": str(r[key]) if r[key] is not None and group != "month" else "",
                "answers": n,
                "promoters": r["promoters"],
                "detractors": r["detractors"],
                "nps": nps,
                "nps_low": lo,
                "nps_high": hi,
                "csat": csat,
                "csat_low": c_lo,
                "csat_high": c_hi,
            }
        )
    return out


def _compute(ctx: ReportContext) -> ReportResult:
    rows = satisfaction_rows(
        org=ctx.org,
        date_from=ctx.date_from,
        date_to=ctx.date_to,
        branch=ctx.branch,
        group=ctx.params["group"],
    )
    n = sum(r["answers"] for r in rows)
    promoters, detractors = sum(r["promoters"] for r in rows), sum(r["detractors"] for r in rows)
    nps, lo, hi = nps_interval(promoters, detractors, n)
    totals = {
        "group": str(_("All")),
        "answers": n,
        "promoters": promoters,
        "detractors": detractors,
        "nps": nps,
    }
    totals.update({"nps_low": lo, "nps_high": hi})
    if n:
        totals["csat"] = round(sum((r["csat"] or 0) * r["answers"] for r in rows) / n, 2)
    notes = [
        str(
            _(
                "NPS = (promoters − detractors) / answers × 100; "
                "the 95-percent interval from the multinomial variance."
            )
        )
    ]
    return ReportResult(rows=rows, totals=totals, notes=notes)


COMMON = (
    Column("group", _("Group")),
    Column("answers", _("Answers"), "int"),
)

register(
    ReportSpec(
        name="nps",
        title=_("Net Promoter Score"),
        description=_(
            "NPS by doctor, branch, consultant, service or month, with answers and the 95-percent interval."
        ),
        permission="reports.feedback",
        columns=(
            *COMMON,
            Column("promoters", _("Promoters (9-10)"), "int"),
            Column("detractors", _("Detractors (0-6)"), "int"),
            Column("nps", _("NPS"), "float"),
            Column("nps_low", _("Interval low"), "float"),
            Column("nps_high", _("Interval high"), "float"),
        ),
        compute=_compute,
        chart=ChartSpec(type="bar", x="group", series=("nps",)),
        params=(GROUP_PARAM,),
        default_days=365,
    )
)

register(
    ReportSpec(
        name="csat",
        title=_("Customer satisfaction (CSAT)"),
        description=_(
            "Mean satisfaction 1-5 by doctor, branch, consultant, service or month, "
            "with the 95-percent interval."
        ),
        permission="reports.feedback",
        columns=(
            *COMMON,
            Column("csat", _("CSAT (1-5)"), "float"),
            Column("csat_low", _("Interval low"), "float"),
            Column("csat_high", _("Interval high"), "float"),
        ),
        compute=_compute,
        chart=ChartSpec(type="bar", x="group", series=("csat",)),
        params=(GROUP_PARAM,),
        default_days=365,
    )
)
