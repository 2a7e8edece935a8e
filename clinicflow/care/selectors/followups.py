"""Reads of follow-up tasks: a person's or a role's list (today / overdue / done), one task, the
patient's tasks; and the missed-call callbacks of the acquisition side merged in read-only (they keep
their own outcome flow on the call's page)."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.urls import reverse

from clinicflow.accounts.models import User
from clinicflow.acquisition.frontdesk.selectors import callbacks_for_log
from clinicflow.care.models import FollowUpTask, TaskStatus
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import branch_list, parse_uuid

VIEWS = ("today", "overdue", "upcoming", "done")
DONE_SHOWN = 100


@dataclass(frozen=True)
class TaskFilter:
    """Whose tasks: one person's (``user``: those assigned to them, and their role's unassigned ones),
    or a role's (``role``), or everyone's (both empty); ``view`` picks today / overdue / upcoming / done."""

    view: str = "today"
    user: User | None = None
    role: str = ""
    branch: Branch | None = None


def _day_bounds(day: dt.date, branch: Branch | None) -> tuple[dt.datetime, dt.datetime]:
    tz = branch.tz if branch is not None else dt.UTC
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def task_list(*, org: Organization, f: TaskFilter, now: dt.datetime) -> QuerySet[FollowUpTask]:
    """Today: open tasks due by the end of today and not yet past their deadline; overdue: open past
    their deadline; upcoming: open and due later; done: worked, newest first. "Today" is the branch's
    day (for the whole chain: the UTC day) of ``now``."""
    qs = FollowUpTask.objects.for_org(org).select_related("patient", "branch", "step", "assignee", "doctor")
    if f.user is not None:
        qs = qs.filter(Q(assignee=f.user) | Q(assignee__isnull=True, assignee_role=f.user.role))
    elif f.role:
        qs = qs.filter(assignee_role=f.role)
    if f.branch is not None:
        qs = qs.filter(branch=f.branch)
    if f.view == "done":
        return qs.filter(status=TaskStatus.DONE).order_by("-done_at", "-id")
    qs = qs.filter(status=TaskStatus.OPEN)
    if f.view == "overdue":
        return qs.filter(due_at__lte=now).order_by("due_at", "id")
    by_today = _due_by_end_of_today(org, f.branch, now)
    if f.view == "upcoming":
        return qs.exclude(by_today).order_by("due_at", "id")
    return qs.filter(by_today, due_at__gt=now).order_by("due_at", "id")


def _due_by_end_of_today(org: Organization, branch: Branch | None, now: dt.datetime) -> Q:
    """Due by the end of today on the clock of the task's branch: one branch's day, or for the whole
    chain each branch's own day (a Moscow task due tonight is today's while UTC is still yesterday)."""
    if branch is not None:
        return Q(due_at__lte=_day_bounds(now.astimezone(branch.tz).date(), branch)[1])
    zones = set(Branch.objects.for_org(org).values_list("timezone", flat=True))
    q = Q(pk__in=[])
    for name in sorted(zones):
        tz = zoneinfo.ZoneInfo(name)
        end = dt.datetime.combine(now.astimezone(tz).date() + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        q |= Q(branch__timezone=name, due_at__lte=end)
    return q


def task_counts(*, org: Organization, f: TaskFilter, now: dt.datetime) -> dict[str, int]:
    return {
        view: task_list(org=org, f=TaskFilter(view, f.user, f.role, f.branch), now=now).count()
        for view in VIEWS
    }


def task_get(*, org: Organization, task_id: object) -> FollowUpTask:
    pk = parse_uuid(task_id)
    task = (
        FollowUpTask.objects.for_org(org)
        .select_related("patient", "branch", "step", "assignee", "doctor", "appointment__service")
        .filter(pk=pk)
        .first()
        if pk
        else None
    )
    if task is None:
        raise NotFound("task not found")
    return task


def patient_tasks(*, org: Organization, patient_id: uuid.UUID, limit: int = 50) -> list[FollowUpTask]:
    return list(
        FollowUpTask.objects.for_org(org)
        .filter(patient_id=patient_id)
        .select_related("branch", "assignee")
        .order_by("-due_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class CallbackRow:
    """A missed-call callback from the acquisition side, shown beside the tasks (read-only)."""

    id: uuid.UUID
    phone: str
    due_at: dt.datetime
    branch: Branch | None
    assignee_id: uuid.UUID | None
    url: str
    kind: str = field(default="callback")


def open_callbacks(
    *, org: Organization, f: TaskFilter, now: dt.datetime, limit: int = 200
) -> list[CallbackRow]:
    """The open callbacks for the list (the front desk's work: shown to a front-desk person or role,
    a manager and an owner; a person sees those assigned to them or to nobody). Overdue: past due;
    today: the rest. The outcome is recorded on the call's page (``url``)."""
    role = f.user.role if f.user is not None else f.role
    if f.view not in ("today", "overdue") or (role and role not in ("frontdesk", "manager", "owner")):
        return []
    branches = [f.branch] if f.branch is not None else branch_list(org=org)
    rows: list[CallbackRow] = []
    for branch in branches:
        for cb in callbacks_for_log(org=org, branch=branch)[:limit]:
            if f.user is not None and cb.assigned_to_id not in (None, f.user.pk):
                continue
            if (cb.due_at <= now) != (f.view == "overdue"):
                continue
            url = reverse("acquisition:call_detail", kwargs={"call_id": cb.call_id})
            rows.append(CallbackRow(cb.pk, cb.phone, cb.due_at, branch, cb.assigned_to_id, url))
    rows.sort(key=lambda r: (r.due_at, r.id))
    return rows[:limit]
