"""Writes of the outbox: enqueue, cancel, the consent-withdrawal hook, template overrides.

``message_enqueue`` is called by other apps (booking, feedback, marketing, ...) *inside their own
transaction*: the outbox row commits or rolls back with the change that causes it, and nothing is
sent until the worker picks it up after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditAction, Organization
from clinicflow.messaging.models import (
    Channel,
    Kind,
    Message,
    MessageAttachment,
    MessageTemplate,
    MessagingSettings,
    Purpose,
    Status,
)
from clinicflow.messaging.rendering import PLACEHOLDER, language_for, render
from clinicflow.patients.models import MARKETING_PURPOSE_BY_CHANNEL, Patient, PatientPhone, PhoneKind
from clinicflow.patients.selectors import has_consent

if TYPE_CHECKING:
    from clinicflow.accounts.models import User

MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024
MAX_ATTACHMENTS = 5


def recipient_for(*, org: Organization, patient: Patient, channel: str) -> str | None:
    """The patient's address on the channel now: the primary (mobile first) phone, or the e-mail."""
    if channel == Channel.EMAIL:
        return patient.email.strip() or None
    phones = list(
        PatientPhone.objects.filter(organization=org, patient=patient).values_list(
            "e164", "kind", "is_primary"
        )
    )
    if not phones:
        return None
    phones.sort(key=lambda p: (not p[2], p[1] != PhoneKind.MOBILE, p[0]))
    return phones[0][0]


def marketing_allowed(*, org: Organization, patient_id: Any, channel: str) -> bool:
    purpose = MARKETING_PURPOSE_BY_CHANNEL.get(channel)
    return purpose is not None and has_consent(org=org, patient_id=patient_id, purpose=purpose)


def _check_attachments(attachments: Iterable[tuple[str, str, bytes]]) -> list[tuple[str, str, bytes]]:
    out = []
    for item in attachments:
        filename, content_type, content = item
        if not isinstance(content, bytes | bytearray | memoryview):
            raise ValidationFailed.field("attachments", "content must be bytes")
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise ValidationFailed.field("attachments", f"{filename!r} is larger than 2 MB")
        safe_name = "".join(ch for ch in str(filename) if ch.isalnum() or ch in "._- ")[:200] or "attachment"
        out.append((safe_name, str(content_type)[:100] or "application/octet-stream", bytes(content)))
    if len(out) > MAX_ATTACHMENTS:
        raise ValidationFailed.field("attachments", f"at most {MAX_ATTACHMENTS} attachments")
    return out


def message_enqueue(
    *,
    org: Organization,
    patient: Patient,
    channel: str,
    kind: str,
    context: Mapping[str, Any],
    purpose: str = Purpose.SERVICE,
    send_after: dt.datetime | None = None,
    dedupe_key: str | None = None,
    attachments: Iterable[tuple[str, str, bytes]] = (),
) -> Message | None:
    """Queue one message to a patient; it is sent by the worker after the caller's transaction commits.

    Returns the message; the already queued/sent message if ``dedupe_key`` was used before in the
    organisation (idempotent); ``None`` (recording nothing) when the patient has no address on the
    channel, or when a marketing message lacks the patient's marketing consent for the channel.
    Must be called inside ``transaction.atomic()``.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("message_enqueue must be called inside the caller's transaction.atomic()")
    if channel not in Channel.values:
        raise ValidationFailed.field("channel", f"must be one of {', '.join(Channel.values)}")
    if kind not in Kind.values:
        raise ValidationFailed.field("kind", f"must be one of {', '.join(Kind.values)}")
    if purpose not in Purpose.values:
        raise ValidationFailed.field("purpose", f"must be one of {', '.join(Purpose.values)}")
    if kind == Kind.MARKETING and purpose != Purpose.MARKETING:
        raise ValidationFailed.field("purpose", "marketing messages need purpose 'marketing'")
    if patient.organization_id != org.id:
        raise ValidationFailed.field("patient", "patient belongs to another organisation")
    if send_after is not None and timezone.is_naive(send_after):
        raise ValidationFailed.field("send_after", "must be an aware datetime")
    if dedupe_key is not None:
        dedupe_key = str(dedupe_key)[:200] or None
    files = _check_attachments(attachments)

    if dedupe_key:
        existing = Message.objects.filter(organization=org, dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    to = recipient_for(org=org, patient=patient, channel=channel)
    if not to:
        return None
    if purpose == Purpose.MARKETING and not marketing_allowed(
        org=org, patient_id=patient.pk, channel=channel
    ):
        return None

    language = language_for(patient.preferred_language)
    ctx = {"clinic": org.name, "patient_name": patient.first_name, **dict(context)}
    rendered = render(org_id=org.id, kind=kind, channel=channel, language=language, context=ctx)
    now = timezone.now()
    message = Message(
        organization=org,
        patient=patient,
        channel=channel,
        kind=kind,
        purpose=purpose,
        language=language,
        to=to,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        context=dict(context),
        dedupe_key=dedupe_key,
        send_after=send_after or now,
        created_at=now,
        updated_at=now,
    )
    try:
        with transaction.atomic():
            message.save(force_insert=True)
            MessageAttachment.objects.bulk_create(
                MessageAttachment(organization=org, message=message, filename=n, content_type=t, content=c)
                for n, t, c in files
            )
    except IntegrityError:
        # a concurrent enqueue with the same dedupe key committed first
        existing = (
            Message.objects.filter(organization=org, dedupe_key=dedupe_key).first() if dedupe_key else None
        )
        if existing is None:
            raise
        return existing
    return message


def _cancel(qs: Any, reason: str) -> int:
    """Cancel the queued messages of ``qs``, freeing their dedupe keys for a later enqueue."""
    return int(
        qs.filter(status=Status.QUEUED).update(
            status=Status.CANCELLED,
            cancelled_key=Coalesce(F("dedupe_key"), Value("")),
            dedupe_key=None,
            last_error=reason[:500],
            updated_at=timezone.now(),
        )
    )


def message_cancel(*, org: Organization, dedupe_key_prefix: str) -> int:
    """Cancel queued messages whose dedupe key starts with the prefix (e.g. ``appt:<id>:``).

    Messages already being sent, sent or failed are left alone. Cancelling frees the key, so the
    same key may be enqueued again (a rescheduled appointment's new reminder). Returns the count."""
    if not dedupe_key_prefix:
        raise ValidationFailed.field("dedupe_key_prefix", "is required")
    qs = Message.objects.filter(organization=org, dedupe_key__startswith=dedupe_key_prefix)
    return _cancel(qs, "cancelled by the application")


def messages_cancel_for_withdrawn_consent(org: Organization, patient: Patient, purpose: str) -> int:
    """The consent-withdrawal hook: cancel the patient's queued marketing messages on that channel."""
    channels = [ch for ch, p in MARKETING_PURPOSE_BY_CHANNEL.items() if p == purpose and ch in Channel.values]
    if not channels:
        return 0
    qs = Message.objects.filter(
        organization=org, patient=patient, purpose=Purpose.MARKETING, channel__in=channels
    )
    return _cancel(qs, "marketing consent withdrawn")


def messaging_settings_get(*, org: Organization) -> MessagingSettings:
    found = MessagingSettings.objects.filter(organization=org).first()
    return found or MessagingSettings(organization=org)


@transaction.atomic
def messaging_settings_update(
    *, org: Organization, actor: User | None, allow_cross_border: bool
) -> MessagingSettings:
    row, _ = MessagingSettings.objects.get_or_create(organization=org)
    changed = row.allow_cross_border != allow_cross_border
    row.allow_cross_border = allow_cross_border
    row.save()
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="messaging_settings",
        object_id=row.pk,
        fields=["allow_cross_border"] if changed else [],
    )
    return row


def _check_placeholders(field: str, text: str) -> None:
    for bad in ("{{", "{%"):
        if bad in text:
            raise ValidationFailed.field(field, "use {placeholder} substitution, not template tags")
    stripped = PLACEHOLDER.sub("", text)
    if "{" in stripped or "}" in stripped:
        raise ValidationFailed.field(field, "braces are only allowed around placeholder names")


@transaction.atomic
def message_template_save(
    *,
    org: Organization,
    actor: User | None,
    kind: str,
    channel: str,
    language: str,
    subject: str,
    body: str,
) -> MessageTemplate:
    """Create or replace the organisation's override of one template."""
    from clinicflow.messaging.catalog import LANGUAGES

    if kind not in Kind.values:
        raise ValidationFailed.field("kind", f"must be one of {', '.join(Kind.values)}")
    if channel not in Channel.values:
        raise ValidationFailed.field("channel", f"must be one of {', '.join(Channel.values)}")
    if language not in LANGUAGES:
        raise ValidationFailed.field("language", f"must be one of {', '.join(LANGUAGES)}")
    subject, body = subject.strip(), body.strip()
    if not body:
        raise ValidationFailed.field("body", "is required")
    if len(body) > 10_000 or len(subject) > 300:
        raise ValidationFailed.field("body", "is too long")
    if channel == Channel.EMAIL and not subject:
        raise ValidationFailed.field("subject", "is required for e-mail")
    _check_placeholders("subject", subject)
    _check_placeholders("body", body)
    row, created = MessageTemplate.objects.update_or_create(
        organization=org,
        kind=kind,
        channel=channel,
        language=language,
        defaults={
            "subject": subject if channel == Channel.EMAIL else "",
            "body": body,
            "updated_at": timezone.now(),
        },
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        object_type="message_template",
        object_id=row.pk,
        fields=["subject", "body"],
    )
    return row


@transaction.atomic
def message_template_delete(*, org: Organization, actor: User | None, template: MessageTemplate) -> None:
    if template.organization_id != org.id:
        raise ValidationFailed("template belongs to another organisation")
    pk = template.pk
    MessageTemplate.objects.filter(organization=org, pk=pk).delete()
    audit_record(
        org=org, actor=actor, action=AuditAction.DELETE, object_type="message_template", object_id=pk
    )


def pending_count(*, org: Organization) -> int:
    return (
        Message.objects.filter(organization=org)
        .filter(Q(status=Status.QUEUED) | Q(status=Status.SENDING))
        .count()
    )
