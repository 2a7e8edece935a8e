"""Working a follow-up task: its outcome (reached, no answer, booked, declined with a reason)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.care.models import FollowUpTask, Outcome, TaskStatus
from clinicflow.core.audit import audited_save
from clinicflow.core.errors import Conflict, ValidationFailed, require_choice
from clinicflow.core.models import Organization

MISSED_AFTER = dt.timedelta(days=14)


@transaction.atomic
def task_outcome_record(
    *,
    org: Organization,
    actor: User | None,
    task: FollowUpTask,
    outcome: str,
    reason: str = "",
    request: HttpRequest | None = None,
) -> FollowUpTask:
    """Record the outcome. "No answer" keeps the task open (one more attempt counted); the others close
    it. A declined patient's reason is required. A closed task refuses a second outcome (409)."""
    require_choice("outcome", outcome, Outcome.values)
    reason = " ".join(reason.split())[:300]
    if outcome == Outcome.DECLINED and not reason:
        raise ValidationFailed.field("reason", "say why the patient declined")
    locked = FollowUpTask.objects.for_org(org).select_for_update().get(pk=task.pk)
    if locked.status != TaskStatus.OPEN:
        raise Conflict("the task is closed already", fields={"status": [locked.status]})
    locked.outcome = outcome
    locked.reason = reason
    locked.attempts += 1
    fields = ["outcome", "reason", "attempts"]
    if outcome != Outcome.NO_ANSWER:
        locked.status = TaskStatus.DONE
        locked.done_at = timezone.now()
        locked.done_by = actor
        fields += ["status", "done_at", "done_by"]
    audited_save(locked, org=org, actor=actor, fields=fields, object_type="followup_task", request=request)
    return locked


def tasks_mark_missed(*, org: Organization, now: dt.datetime, limit: int = 5000) -> int:
    """Open tasks more than two weeks past their deadline become missed (bounded per call)."""
    ids = list(
        FollowUpTask.objects.for_org(org)
        .filter(status=TaskStatus.OPEN, due_at__lt=now - MISSED_AFTER)
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return 0
    return (
        FollowUpTask.objects.for_org(org)
        .filter(pk__in=ids, status=TaskStatus.OPEN)
        .update(status=TaskStatus.MISSED)
    )
