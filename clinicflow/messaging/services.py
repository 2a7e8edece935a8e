"""Writes of the outbox: enqueue, cancel, the consent-withdrawal hook, template overrides.

``message_enqueue`` is called by other apps (booking, feedback, marketing, ...) *inside their own
transaction*: the outbox row commits or rolls back with the change that causes it, and nothing is
sent until the worker picks it up after commit.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation

from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditAction, Organization
from clinicflow.messaging.catalog import BUILTIN
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
from clinicflow.messaging.rendering import PLACEHOLDER, SMS_MAX, Rendered, language_for, render, substitute
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


class EnqueueItem(TypedDict):
    """One message of ``message_enqueue_many``: the keyword arguments of ``message_enqueue`` that vary."""

    channel: str
    kind: str
    context: Mapping[str, Any]
    purpose: NotRequired[str]
    send_after: NotRequired[dt.datetime | None]
    dedupe_key: NotRequired[str | None]
    attachments: NotRequired[Iterable[tuple[str, str, bytes]]]


def _primary_phone(phones: list[tuple[str, str, bool]]) -> str | None:
    if not phones:
        return None
    return sorted(phones, key=lambda p: (not p[2], p[1] != PhoneKind.MOBILE, p[0]))[0][0]


def _render_from(
    *, source: tuple[str, str, str | None], channel: str, language: str, context: Mapping[str, Any]
) -> Rendered:
    """``rendering.render`` with the (subject, body, action) source already chosen (same output)."""
    subject_t, body_t, action = source
    subject = " ".join(substitute(subject_t, context).split())[:300]
    text = substitute(body_t, context).strip()
    if channel == Channel.SMS:
        return Rendered(subject="", text=text[:SMS_MAX], html="")
    url = str(context.get("manage_url") or context.get("survey_url") or "")
    with translation.override(language):
        html = render_to_string(
            "messaging/email.html",
            {
                "subject": subject,
                "paragraphs": [p for p in text.split("\n\n") if p.strip()],
                "action_url": url if url.startswith(("https://", "http://")) else "",
                "action_label": action or "",
                "clinic": context.get("clinic", ""),
                "language": language,
            },
        )
    return Rendered(subject=subject, text=text, html=html)


def message_enqueue_many(
    *, org: Organization, patient: Patient, items: Sequence[EnqueueItem], fresh_keys: bool = False
) -> list[Message | None]:
    """Queue several messages to one patient at once — ``message_enqueue`` for each item, in a fixed
    number of queries whatever the count: one dedupe lookup for all keys, the patient's phones and
    the organisation's template overrides read once, consent once per marketing channel, one INSERT
    for the messages and one for their attachments. Identical texts (e.g. a reminder at several
    offsets) are rendered once.

    Returns, in the order of ``items``, what ``message_enqueue`` would have returned for each: the
    new message, the existing one for a dedupe key already used (also earlier in the same batch), or
    ``None`` (no address on the channel, or marketing without consent). Every item is validated
    before anything is written. Must be called inside ``transaction.atomic()``.

    ``fresh_keys=True`` skips the dedupe lookup when the caller knows no key can exist yet (they name a
    row created in the same transaction); the unique constraint on the key still guards the insert.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("message_enqueue_many must be called inside the caller's transaction.atomic()")
    if patient.organization_id != org.id:
        raise ValidationFailed.field("patient", "patient belongs to another organisation")
    prepared: list[tuple[str, str, Mapping[str, Any], str, dt.datetime | None, str | None, list[Any]]] = []
    for item in items:
        channel, kind = item["channel"], item["kind"]
        purpose = item.get("purpose", Purpose.SERVICE)
        send_after = item.get("send_after")
        if channel not in Channel.values:
            raise ValidationFailed.field("channel", f"must be one of {', '.join(Channel.values)}")
        if kind not in Kind.values:
            raise ValidationFailed.field("kind", f"must be one of {', '.join(Kind.values)}")
        if purpose not in Purpose.values:
            raise ValidationFailed.field("purpose", f"must be one of {', '.join(Purpose.values)}")
        if kind == Kind.MARKETING and purpose != Purpose.MARKETING:
            raise ValidationFailed.field("purpose", "marketing messages need purpose 'marketing'")
        if send_after is not None and timezone.is_naive(send_after):
            raise ValidationFailed.field("send_after", "must be an aware datetime")
        key = item.get("dedupe_key")
        key = (str(key)[:200] or None) if key is not None else None
        files = _check_attachments(item.get("attachments", ()))
        prepared.append((channel, kind, item["context"], purpose, send_after, key, files))
    if not prepared:
        return []

    keys = {p[5] for p in prepared if p[5]}
    existing: dict[str, Message] = {}
    if keys and not fresh_keys:
        existing = {
            m.dedupe_key: m
            for m in Message.objects.filter(organization=org, dedupe_key__in=sorted(keys))
            if m.dedupe_key
        }
    todo = [p for p in prepared if not (p[5] and p[5] in existing)]
    phone = None
    if any(p[0] == Channel.SMS for p in todo):
        phone = _primary_phone(
            list(
                PatientPhone.objects.filter(organization=org, patient=patient).values_list(
                    "e164", "kind", "is_primary"
                )
            )
        )
    email = patient.email.strip() or None
    consent: dict[str, bool] = {}
    language = language_for(patient.preferred_language)
    needed = {(p[1], p[0]) for p in todo if (phone if p[0] == Channel.SMS else email)}
    overrides: dict[tuple[str, str], tuple[str, str]] = {}
    if needed:
        overrides = {
            (k, c): (subj, body)
            for k, c, subj, body in MessageTemplate.objects.filter(
                organization_id=org.id,
                language=language,
                kind__in=sorted({k for k, _ in needed}),
                channel__in=sorted({c for _, c in needed}),
            ).values_list("kind", "channel", "subject", "body")
        }

    def source(kind: str, channel: str) -> tuple[str, str, str | None]:
        builtin = BUILTIN[kind][language]
        action = builtin.get("action")
        if (kind, channel) in overrides:
            subj, body = overrides[(kind, channel)]
            return subj, body, action
        if channel == Channel.SMS:
            return "", builtin["sms"], None
        return builtin["subject"], builtin["body"], action

    out: list[Message | None] = []
    new: list[tuple[Message, list[Any]]] = []
    by_key: dict[str, Message] = dict(existing)
    rendered_cache: dict[tuple[str, str, str], Rendered] = {}
    now = timezone.now()

    for channel, kind, context, purpose, send_after, key, files in prepared:
        if key and key in by_key:
            out.append(by_key[key])
            continue
        to = phone if channel == Channel.SMS else email
        if not to:
            out.append(None)
            continue
        if purpose == Purpose.MARKETING:
            if channel not in consent:
                consent[channel] = marketing_allowed(org=org, patient_id=patient.pk, channel=channel)
            if not consent[channel]:
                out.append(None)
                continue
        ctx = {"clinic": org.name, "patient_name": patient.first_name, **dict(context)}
        cache_key = (kind, channel, json.dumps(ctx, sort_keys=True, default=str))
        rendered = rendered_cache.get(cache_key)
        if rendered is None:
            rendered = _render_from(
                source=source(kind, channel), channel=channel, language=language, context=ctx
            )
            rendered_cache[cache_key] = rendered
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
            dedupe_key=key,
            send_after=send_after or now,
            created_at=now,
            updated_at=now,
        )
        new.append((message, files))
        if key:
            by_key[key] = message
        out.append(message)
    if not new:
        return out
    try:
        with transaction.atomic():
            Message.objects.bulk_create([m for m, _ in new])
            attachments = [
                MessageAttachment(organization=org, message=m, filename=n, content_type=t, content=c)
                for m, files in new
                for n, t, c in files
            ]
            if attachments:
                MessageAttachment.objects.bulk_create(attachments)
    except IntegrityError:
        # a concurrent enqueue with one of the dedupe keys committed first: fall back to one at a
        # time, which returns the winner's message for that key
        if not keys:
            raise
        return [
            message_enqueue(
                org=org,
                patient=patient,
                channel=channel,
                kind=kind,
                context=context,
                purpose=purpose,
                send_after=send_after,
                dedupe_key=key,
                attachments=files,
            )
            for channel, kind, context, purpose, send_after, key, files in prepared
        ]
    return out


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
