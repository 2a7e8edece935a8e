"""Follow-up tasks done on time, by role, person, branch or month.

A task counts in the period its deadline falls in, once the deadline has passed (open tasks due later
are not yet judged; cancelled ones never). *On time*: done (any outcome but "no answer", which keeps a
task open) no later than its deadline, the end of its due day in the branch's zone. The share has a
95% Wilson interval."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
from clinicflow.care.models import FollowUpTask, TaskStatus
from clinicflow.care.selectors.recall import wilson
from clinicflow.core.models import Branch, Organization

GROUPS = {
    "role": ("assignee_role",),
    "person": ("assignee_id", "assignee__full_name", "assignee__email"),
    "branch": ("branch_id", "branch__name"),
    "month": ("month",),
}


def _label(by: str, r: dict[str, Any]) -> str:
    if by == "role":
        return str(r["assignee_role"] or "—")
    if by == "person":
        return str(r["assignee__full_name"] or r["assignee__email"] or _("Unassigned"))
    if by == "branch":
        return str(r["branch__name"])
    month = r["month"]
    return f"{month:%Y-%m}" if month else "—"


def task_rows(
    *,
    org: Organization,
    start: dt.datetime,
    end: dt.datetime,
    by: str = "role",
    branch: Branch | None = None,
    now: dt.datetime | None = None,
) -> list[dict[str, Any]]:
    now = now or timezone.now()
    qs = (
        FollowUpTask.objects.for_org(org)
        .filter(due_at__gte=start, due_at__lt=min(end, now))
        .exclude(status=TaskStatus.CANCELLED)
        .annotate(month=TruncMonth("due_on"))
    )
    if branch is not None:
        qs = qs.filter(branch=branch)
    on_time = Q(status=TaskStatus.DONE, done_at__lte=F("due_at"))
    rows = (
        qs.values(*GROUPS[by])
        .annotate(
            due=Count("id"),
            done=Count("id", filter=Q(status=TaskStatus.DONE)),
            on_time=Count("id", filter=on_time),
        )
        .order_by(*GROUPS[by])
    )
    out = []
    for r in rows:
        ci = wilson(r["on_time"], r["due"])
        out.append(
            {
                "group": _label(by, r),
                "due": r["due"],
                "done": r["done"],
                "on_time": r["on_time"],
                "on_time_share": ratio(r["on_time"], r["due"]),
                "ci_low": ci[0] if ci else None,
                "ci_high": ci[1] if ci else None,
            }
        )
    return out


def _compute(ctx: ReportContext) -> ReportResult:
    rows = task_rows(
        org=ctx.org,
        start=ctx.start_utc(),
        end=ctx.end_utc(),
        by=ctx.params.get("by", "role"),
        branch=ctx.branch,
    )
    return ReportResult(rows=rows)


register(
    ReportSpec(
        name="tasks",
        title=_("Follow-up tasks done on time"),
        description=_(
            # xgettext:no-python-format
            "Follow-up tasks whose deadline fell in the period: done, and done by the end of the due day, "
            "with a 95% interval of the share."
        ),
        permission="reports.care",
        columns=(
            Column("group", _("Group")),
            Column("due", _("Tasks due"), "int"),
            Column("done", _("Done"), "int"),
            Column("on_time", _("Done on time"), "int"),
            Column("on_time_share", _("Share on time"), "percent"),
            # xgettext:no-python-format
            Column("ci_low", _("95% interval, low"), "percent"),
            # xgettext:no-python-format
            Column("ci_high", _("95% interval, high"), "percent"),
        ),
        compute=_compute,
        chart=ChartSpec(type="bar", x="group", series=("on_time_share",)),
        params=(
            Param(
                "by",
                _("By"),
                (
                    ("role", _("Role")),
                    ("person", _("Person")),
                    ("branch", _("Branch")),
                    ("month", _("Month")),
                ),
                "role",
            ),
        ),
    )
)
