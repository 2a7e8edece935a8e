"""The expectation gap: the expectation recorded at the patient's consultation (clinical
``Consultation.expectation``, copied onto the answer through the clinical selectors when the patient
answers) minus the result they rated, per consultant or per service; consultants whose patients' gap
is significantly larger than the rest of the clinic's are flagged (one-sided Welch z-test, Holm
correction over the consultants compared: see ``stats``). Next to each consultant: their
consultations, the quotes accepted from them (consultation → treatment conversion, from
``clinical.selectors``) and their patients' later NPS."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    Param,
    ReportContext,
    ReportResult,
    ReportSpec,
    period_bounds,
    ratio,
    register,
)
from clinicflow.analytics.reports.feedback.stats import (
    ALPHA,
    Moments,
    holm,
    mean_interval,
    nps_interval,
    welch_greater,
)
from clinicflow.clinical.selectors.consultations import conversion_by_consultant
from clinicflow.core.models import Branch, Organization
from clinicflow.feedback.models import DETRACTOR_MAX, PROMOTER_MIN, SurveyAnswer

GROUPS = {
    "consultant": ("consultant_id", "consultant__full_name"),
    "service": ("service_id", "service__name"),
}


def against_the_rest(moments: dict[str, Moments]) -> tuple[dict[str, float], dict[str, float]]:
    """Each group's gaps against the rest of the clinic's: the one-sided Welch p-value (where it can
    be computed) and its Holm-corrected value over the groups."""
    all_n = sum(m.n for m in moments.values())
    all_sum = sum(m.total for m in moments.values())
    all_sq = sum(m.squares for m in moments.values())
    pvalues: dict[str, float] = {}
    for k, m in moments.items():
        p = welch_greater(m, Moments(all_n - m.n, all_sum - m.total, all_sq - m.squares))
        if p is not None:
            pvalues[k] = p
    return pvalues, holm(pvalues)


def gap_rows(
    *,
    org: Organization,
    date_from: dt.date,
    date_to: dt.date,
    branch: Branch | None = None,
    group: str = "consultant",
) -> list[dict[str, Any]]:
    """Per consultant (or service): answers with both an expectation and a rated result, the mean
    expectation, result and gap with its 95% interval, the one-sided p-value against the rest of the
    clinic, its Holm-corrected value and the flag; NPS of all the group's answers."""
    key, label = GROUPS[group]
    start, end = period_bounds(date_from, date_to, branch)
    qs = SurveyAnswer.objects.for_org(org).filter(answered_at__gte=start, answered_at__lt=end)
    if branch is not None:
        qs = qs.filter(branch=branch)
    has_gap = Q(expectation__isnull=False, result__isnull=False)
    gap = F("expectation") - F("result")
    rows = list(
        qs.filter(**{f"{key}__isnull": False})
        .values(key, label)
        .annotate(
            answers=Count("id"),
            promoters=Count("id", filter=Q(nps__gte=PROMOTER_MIN)),
            detractors=Count("id", filter=Q(nps__lte=DETRACTOR_MAX)),
            n=Count("id", filter=has_gap),
            exp_sum=Sum("expectation", filter=has_gap),
            res_sum=Sum("result", filter=has_gap),
            gap_sum=Sum(gap, filter=has_gap),
            gap_sq=Sum(gap * gap, filter=has_gap),
        )
        .order_by(label, key)
    )
    moments = {str(r[key]): Moments(r["n"], float(r["gap_sum"] or 0), float(r["gap_sq"] or 0)) for r in rows}
    pvalues, adjusted = against_the_rest(moments)
    out = []
    for r in rows:
        k, n = str(r[key]), r["n"]
        mean_gap, lo, hi = mean_interval(float(r["gap_sum"] or 0), float(r["gap_sq"] or 0), n)
        nps, _lo, _hi = nps_interval(r["promoters"], r["detractors"], r["answers"])
        out.append(
            {
                "group": r[label],
                "group_id": k,
                "answers": r["answers"],
                "gap_answers": n,
                "expectation": round(r["exp_sum"] / n, 2) if n else None,
                "result": round(r["res_sum"] / n, 2) if n else None,
                "gap": mean_gap,
                "gap_low": lo,
                "gap_high": hi,
                "p_value": round(pvalues[k], 6) if k in pvalues else None,
                "p_holm": round(adjusted[k], 6) if k in adjusted else None,
                "flagged": bool(k in adjusted and adjusted[k] <= ALPHA),
                "nps": nps,
            }
        )
    return out


def _compute(ctx: ReportContext) -> ReportResult:
    group = ctx.params["group"]
    rows = gap_rows(org=ctx.org, date_from=ctx.date_from, date_to=ctx.date_to, branch=ctx.branch, group=group)
    if group == "consultant":
        conv = {
            str(c.doctor_id): c
            for c in conversion_by_consultant(org=ctx.org, date_from=ctx.date_from, date_to=ctx.date_to)
        }
        for row in rows:
            c = conv.get(row["group_id"])
            row["consultations"] = c.consultations if c else None
            row["conversion"] = ratio(c.accepted, c.consultations) if c else None
    for row in rows:
        row["flag"] = str(_("Worse than the clinic")) if row["flagged"] else ""
    notes = [
        str(
            _(
                "Gap = expectation at the consultation − rated result (0-10). Flagged: larger than the rest "
                "of the clinic (one-sided Welch test, Holm correction over the groups compared, level 0.05)."
            )
        )
    ]
    return ReportResult(rows=rows, notes=notes)


register(
    ReportSpec(
        name="expectation_gap",
        title=_("Expectation gap"),
        description=_(
            "Expectation recorded at the consultation minus the rated result, per consultant or service; "
            "consultants significantly worse than the clinic are flagged; conversion and NPS beside."
        ),
        permission="reports.feedback",
        columns=(
            Column("group", _("Consultant or service")),
            Column("gap_answers", _("Answers"), "int"),
            Column("expectation", _("Mean expectation"), "float"),
            Column("result", _("Mean result"), "float"),
            Column("gap", _("Gap"), "float"),
            Column("gap_low", _("Interval low"), "float"),
            Column("gap_high", _("Interval high"), "float"),
            Column("p_holm", _("p (Holm)"), "float"),
            Column("flag", _("Flag")),
            Column("consultations", _("Consultations"), "int"),
            Column("conversion", _("Converted to treatment"), "percent"),
            Column("nps", _("Later NPS"), "float"),
        ),
        compute=_compute,
        chart=ChartSpec(type="bar", x="group", series=("gap",)),
        params=(
            Param(
                name="group",
                label=_("By"),
                choices=(("consultant", _("Consultant")), ("service", _("Service"))),
                default="consultant",
            ),
        ),
        default_days=365,
    )
)
