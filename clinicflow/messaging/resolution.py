"""Staff resolve a message in the ``unknown`` state: a worker handed it to the provider and died before
recording the result, so only a human who checked the provider's log knows whether it arrived."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed, require_choice
from clinicflow.core.models import AuditAction, Organization
from clinicflow.messaging.models import Message, Status

OUTCOMES = ("sent", "failed", "retry")


@transaction.atomic
def message_resolve(*, org: Organization, actor: User | None, message: Message, outcome: str) -> Message:
    """Mark an ``unknown`` message delivered (``sent``), ``failed``, or queue it again now (``retry``:
    the worker sends it, still refusing it past its ``not_after``). Audited. ``ValidationFailed``
    when the message is no longer ``unknown`` (a late confirmation or another user resolved it)."""
    require_choice("outcome", outcome, OUTCOMES)
    now = timezone.now()
    changes: dict[str, object] = {"updated_at": now, "claimed_by": "", "claimed_until": None}
    if outcome == "sent":
        changes |= {"status": Status.SENT, "sent_at": now, "last_error": "marked delivered by staff"}
    elif outcome == "failed":
        changes |= {"status": Status.FAILED, "last_error": "marked failed by staff"}
    else:
        changes |= {
            "status": Status.QUEUED,
            "send_after": now,
            "handed_over_at": None,
            "last_error": "retry requested by staff",
        }
    done = Message.objects.for_org(org).filter(pk=message.pk, status=Status.UNKNOWN).update(**changes)
    if not done:
        raise ValidationFailed.field("outcome", "the message is no longer in the unknown state")
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="message",
        object_id=message.pk,
        fields=sorted(k for k in changes if k not in {"updated_at", "claimed_by", "claimed_until"}),
    )
    message.refresh_from_db()
    return message
