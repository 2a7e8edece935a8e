"""Writes of the front desk on calls: tags, the administrator who took the call, callbacks done, the
weekly review list. (Checklists and scores: ``frontdesk.checklists``.) Keyword-only, atomic,
organisation first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from clinicflow.acquisition.frontdesk.selectors import call_administrators, week_of
from clinicflow.acquisition.models import (
    Call,
    CallbackTask,
    CallTag,
    CallTagging,
    ReviewListEntry,
    ReviewVerdict,
)
from clinicflow.core.audit import audit_record, audited_save
from clinicflow.core.errors import Conflict, NotFound, ValidationFailed
from clinicflow.core.models import AuditAction, Organization

if TYPE_CHECKING:
    from clinicflow.accounts.models import User


def staff(actor: User | None) -> User | None:
    """The staff user to store as who did it (``None`` for system work without a saved user)."""
    return actor if actor is not None and actor.pk else None


@transaction.atomic
def call_tag_set(*, org: Organization, actor: User | None, call: Call, tags: list[str]) -> list[str]:
    bad = [t for t in tags if t not in CallTag.values]
    if bad:
        raise ValidationFailed.field("tags", f"unknown tag {bad[0][:30]!r}; use {', '.join(CallTag.values)}")
    wanted = set(tags)
    CallTagging.objects.for_org(org).filter(call=call).exclude(tag__in=wanted).delete()
    have = set(CallTagging.objects.for_org(org).filter(call=call).values_list("tag", flat=True))
    CallTagging.objects.bulk_create(
        [
            CallTagging(organization=org, call=call, tag=t, tagged_by=staff(actor))
            for t in sorted(wanted - have)
        ]
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="call",
        object_id=call.pk,
        fields=["tags"],
    )
    return sorted(wanted)


@transaction.atomic
def call_assign_administrator(
    *, org: Organization, actor: User | None, call: Call, administrator: User | None
) -> Call:
    if call.organization_id != org.id:
        raise NotFound("call not found")
    if administrator is not None and not call_administrators(org=org).filter(pk=administrator.pk).exists():
        raise ValidationFailed.field("administrator", "unknown administrator")
    call.administrator = administrator
    audited_save(call, org=org, actor=actor, fields=["administrator"], object_type="call")
    return call


@transaction.atomic
def callback_done(
    *, org: Organization, actor: User | None, task: CallbackTask, outcome: str = ""
) -> CallbackTask:
    if task.done_at is not None:
        raise Conflict("this callback is already done")
    task.done_at = timezone.now()
    task.outcome = outcome.strip()[:200]
    task.assigned_to = task.assigned_to or staff(actor)
    fields = ["done_at", "outcome", "assigned_to"]
    audited_save(task, org=org, actor=actor, fields=fields, object_type="callback_task")
    return task


@transaction.atomic
def review_add(
    *, org: Organization, actor: User | None, call: Call, verdict: str, note: str = ""
) -> ReviewListEntry:
    if verdict not in ReviewVerdict.values:
        raise ValidationFailed.field("verdict", "must be good or bad")
    entry, _ = ReviewListEntry.objects.update_or_create(
        organization=org,
        call=call,
        defaults={
            "week": week_of(call.started_at.date()),
            "verdict": verdict,
            "note": note.strip()[:500],
            "added_by": staff(actor),
        },
    )
    audit_record(
        org=org, actor=actor, action=AuditAction.UPDATE, object_type="review_entry", object_id=entry.pk
    )
    return entry


@transaction.atomic
def review_remove(*, org: Organization, actor: User | None, entry: ReviewListEntry) -> None:
    if entry.organization_id != org.id:
        raise NotFound("review entry not found")
    pk = entry.pk
    ReviewListEntry.objects.for_org(org).filter(pk=pk).delete()
    audit_record(org=org, actor=actor, action=AuditAction.DELETE, object_type="review_entry", object_id=pk)
