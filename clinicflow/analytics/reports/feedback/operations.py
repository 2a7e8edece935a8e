"""Complaints (opened, open, overdue, resolved, resolution time) and the survey response rate."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
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
from clinicflow.feedback.models import OPEN_STATUSES, Complaint, Survey


def complaint_rows(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None = None
) -> list[dict[str, Any]]:
    """Per branch, complaints opened in the period: how many, still open, overdue now, resolved or
    closed, and the mean and median hours from opening to resolution."""
    start, end = period_bounds(date_from, date_to, branch)
    qs = Complaint.objects.for_org(org).filter(created_at__gte=start, created_at__lt=end)
    if branch is not None:
        qs = qs.filter(branch=branch)
    now = timezone.now()
    rows = (
        qs.values("branch_id", "branch__name")
        .annotate(
            opened=Count("id"),
            open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
            overdue=Count("id", filter=Q(status__in=OPEN_STATUSES, deadline__lt=now)),
            done=Count("id", filter=~Q(status__in=OPEN_STATUSES)),
        )
        .order_by("branch__name")
    )
    hours: dict[Any, list[float]] = {}
    for b, created, closed in qs.filter(closed_at__isnull=False).values_list(
        "branch_id", "created_at", "closed_at"
    ):
        if closed is not None:
            hours.setdefault(b, []).append((closed - created).total_seconds() / 3600)
    out = []
    for r in rows:
        h = sorted(hours.get(r["branch_id"], []))
        out.append(
            {
                "branch": r["branch__name"],
                "opened": r["opened"],
                "open": r["open"],
                "overdue": r["overdue"],
                "resolved": r["done"],
                "mean_hours": round(sum(h) / len(h), 1) if h else None,
                "median_hours": round(
                    h[len(h) // 2] if len(h) % 2 else (h[len(h) // 2 - 1] + h[len(h) // 2]) / 2, 1
                )
                if h
                else None,
            }
        )
    return out


def response_rows(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None = None
) -> list[dict[str, Any]]:
    """Per branch, surveys created in the period, sent, answered, and the response rate."""
    start, end = period_bounds(date_from, date_to, branch)
    qs = Survey.objects.for_org(org).filter(created_at__gte=start, created_at__lt=end)
    if branch is not None:
        qs = qs.filter(branch=branch)
    rows = (
        qs.values("branch_id", "branch__name")
        .annotate(
            surveys=Count("id"),
            sent=Count("id", filter=Q(sent_at__isnull=False)),
            answered=Count("id", filter=Q(answered_at__isnull=False)),
        )
        .order_by("branch__name")
    )
    return [
        {
            "branch": r["branch__name"],
            "surveys": r["surveys"],
            "sent": r["sent"],
            "answered": r["answered"],
            "response_rate": ratio(r["answered"], r["surveys"]),
        }
        for r in rows
    ]


def _complaints(ctx: ReportContext) -> ReportResult:
    return ReportResult(
        rows=complaint_rows(org=ctx.org, date_from=ctx.date_from, date_to=ctx.date_to, branch=ctx.branch)
    )


def _responses(ctx: ReportContext) -> ReportResult:
    return ReportResult(
        rows=response_rows(org=ctx.org, date_from=ctx.date_from, date_to=ctx.date_to, branch=ctx.branch)
    )


register(
    ReportSpec(
        name="complaints",
        title=_("Complaints"),
        description=_(
            "Complaints opened per branch: still open, overdue, resolved, and the time to resolve them."
        ),
        permission="reports.feedback",
        columns=(
            Column("branch", _("Branch")),
            Column("opened", _("Opened"), "int"),
            Column("open", _("Open"), "int"),
            Column("overdue", _("Overdue"), "int"),
            Column("resolved", _("Resolved or closed"), "int"),
            Column("mean_hours", _("Mean hours to resolve"), "float"),
            Column("median_hours", _("Median hours to resolve"), "float"),
        ),
        compute=_complaints,
        chart=ChartSpec(type="bar", x="branch", series=("open", "overdue", "resolved"), stacked=True),
    )
)

register(
    ReportSpec(
        name="survey_response",
        title=_("Survey response rate"),
        description=_("Surveys created per branch, sent, answered, and the share answered."),
        permission="reports.feedback",
        columns=(
            Column("branch", _("Branch")),
            Column("surveys", _("Surveys"), "int"),
            Column("sent", _("Sent"), "int"),
            Column("answered", _("Answered"), "int"),
            Column("response_rate", _("Response rate"), "percent"),
        ),
        compute=_responses,
        chart=ChartSpec(type="bar", x="branch", series=("response_rate",)),
    )
)
