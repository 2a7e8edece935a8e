"""What could be better: per improvement tag (the tags the clinic edits, ``feedback.ImprovementTag``),
the answers that ticked it in the period, their share of the answers that are not promoters' (the
ones that say what could be better), and the mean NPS and CSAT of the answers with it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_lazy as _

from clinicflow.analytics.reports.base import (
    ChartSpec,
    Column,
    ReportContext,
    ReportResult,
    ReportSpec,
    period_bounds,
    ratio,
    register,
)
from clinicflow.core.models import Branch, Organization
from clinicflow.feedback.models import PROMOTER_MIN, SurveyAnswer
from clinicflow.feedback.selectors.settings import tag_list


def tag_rows(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None = None
) -> list[dict[str, Any]]:
    """One row per tag of the organisation (hidden ones too, in the clinic's order): answers with it,
    their share of the period's non-promoter answers, their mean NPS and CSAT."""
    start, end = period_bounds(date_from, date_to, branch)
    qs = SurveyAnswer.objects.for_org(org).filter(answered_at__gte=start, answered_at__lt=end)
    if branch is not None:
        qs = qs.filter(branch=branch)
    base = qs.filter(nps__lt=PROMOTER_MIN).count()
    counts: dict[str, list[int]] = {}
    for tags, nps, csat in qs.exclude(tags=[]).values_list("tags", "nps", "csat").iterator(chunk_size=5000):
        for tag in set(tags or []):
            c = counts.setdefault(str(tag), [0, 0, 0])
            c[0] += 1
            c[1] += nps
            c[2] += csat
    out = []
    for tag in tag_list(org=org):
        n, nps_sum, csat_sum = counts.get(str(tag.pk), [0, 0, 0])
        out.append(
            {
                "tag": tag.label,
                "answers": n,
                "share": ratio(n, base),
                "mean_nps": round(nps_sum / n, 2) if n else None,
                "mean_csat": round(csat_sum / n, 2) if n else None,
            }
        )
    return out


def _compute(ctx: ReportContext) -> ReportResult:
    rows = tag_rows(org=ctx.org, date_from=ctx.date_from, date_to=ctx.date_to, branch=ctx.branch)
    return ReportResult(rows=sorted(rows, key=lambda r: -r["answers"]))


register(
    ReportSpec(
        name="improvement_tags",
        title=_("What could be better"),
        description=_(
            "How often each improvement tag was ticked, as a share of the answers "
            "that were not promoters, with the mean scores of those answers."
        ),
        permission="reports.feedback",
        columns=(
            Column("tag", _("Tag")),
            Column("answers", _("Answers"), "int"),
            Column("share", _("Share of non-promoters"), "percent"),
            Column("mean_nps", _("Mean NPS answer"), "float"),
            Column("mean_csat", _("Mean CSAT"), "float"),
        ),
        compute=_compute,
        chart=ChartSpec(type="bar", x="tag", series=("answers",)),
        default_days=365,
    )
)
