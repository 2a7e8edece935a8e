"""Recall lists: contacts made in the period and the share of contacted patients who booked within 7
and within 60 days of the contact (``booked_at``), each with a 95% Wilson interval."""

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
    register,
)
from clinicflow.care.selectors.recall import recall_results
from clinicflow.core.models import Organization


def recall_rows(*, org: Organization, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    out = []
    for r in recall_results(org=org, start=start, end=end):
        ci7, ci60 = r.ci_7, r.ci_60
        out.append(
            {
                "list": r.recall_list.name,
                "kind": r.recall_list.kind,
                "contacted": r.contacted,
                "booked_7": r.booked_7,
                "share_7": r.share_7,
                "share_7_low": ci7[0] if ci7 else None,
                "share_7_high": ci7[1] if ci7 else None,
                "booked_60": r.booked_60,
                "share_60": r.share_60,
                "share_60_low": ci60[0] if ci60 else None,
                "share_60_high": ci60[1] if ci60 else None,
            }
        )
    return out


def _compute(ctx: ReportContext) -> ReportResult:
    return ReportResult(rows=recall_rows(org=ctx.org, start=ctx.start_utc(), end=ctx.end_utc()))


register(
    ReportSpec(
        name="recall",
        title=_("Recall results"),
        description=_(
            # xgettext:no-python-format
            "Per recall list: patients contacted in the period and the share who booked within 7 and "
            "within 60 days of the contact, with 95% intervals."
        ),
        permission="reports.care",
        columns=(
            Column("list", _("List")),
            Column("contacted", _("Contacted"), "int"),
            Column("booked_7", _("Booked within 7 days"), "int"),
            Column("share_7", _("Share within 7 days"), "percent"),
            # xgettext:no-python-format
            Column("share_7_low", _("7 days: 95% interval, low"), "percent"),
            # xgettext:no-python-format
            Column("share_7_high", _("7 days: 95% interval, high"), "percent"),
            Column("booked_60", _("Booked within 60 days"), "int"),
            Column("share_60", _("Share within 60 days"), "percent"),
            # xgettext:no-python-format
            Column("share_60_low", _("60 days: 95% interval, low"), "percent"),
            # xgettext:no-python-format
            Column("share_60_high", _("60 days: 95% interval, high"), "percent"),
        ),
        compute=_compute,
        chart=ChartSpec(type="bar", x="list", series=("share_7", "share_60")),
        default_days=365,
    )
)
