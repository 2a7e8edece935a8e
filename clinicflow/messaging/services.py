"""Writes of the outbox: enqueue, cancel, the consent-withdrawal hook, settings, template overrides.

``message_enqueue_many`` (and ``message_enqueue``, the same path for one message) is called by other
apps (booking, feedback, marketing, ...) *inside their own transaction*: the outbox rows commit or
roll back with the change that causes them, and nothing is sent until the worker picks them up after
commit (``tasks.Worker``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from clinicflow.core.errors import ValidationFailed, require_choice
from clinicflow.core.models import Organization
from clinicflow.core.onetime import CODE_MARK
from clinicflow.messaging import selectors
from clinicflow.messaging.models import (
    ESSENTIAL_KINDS,
    Channel,
    Kind,
    Message,
    MessageAttachment,
    Purpose,
    Status,
)
from clinicflow.messaging.rendering import Rendered, language_for, render, template_source
from clinicflow.patients.models import MARKETING_PURPOSE_BY_CHANNEL, Patient
from clinicflow.patients.selectors import patient_text_phone

MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024
MAX_ATTACHMENTS = 5

File = tuple[str, str, bytes]


class EnqueueItem(TypedDict):
    """One message to queue: what varies between the messages of one ``message_enqueue_many`` call."""

    channel: str
    kind: str
    context: Mapping[str, Any]
    purpose: NotRequired[str]
    send_after: NotRequired[dt.datetime | None]
    not_after: NotRequired[dt.datetime | None]
    dedupe_key: NotRequired[str | None]
    attachments: NotRequired[Iterable[File]]


@dataclass(frozen=True)
class _Item:
    """An ``EnqueueItem`` validated, with its defaults filled in."""

    channel: str
    kind: str
    context: Mapping[str, Any]
    purpose: str
    send_after: dt.datetime | None
    not_after: dt.datetime | None
    key: str | None
    files: list[File]


def _check_attachments(attachments: Iterable[File]) -> list[File]:
    out = []
    for filename, content_type, content in attachments:
        if not isinstance(content, bytes | bytearray | memoryview):
            raise ValidationFailed.field("attachments", "content must be bytes")
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise ValidationFailed.field("attachments", f"{filename!r} is larger than 2 MB")
        safe_name = "".join(ch for ch in str(filename) if ch.isalnum() or ch in "._- ")[:200] or "attachment"
        out.append((safe_name, str(content_type)[:100] or "application/octet-stream", bytes(content)))
    if len(out) > MAX_ATTACHMENTS:
        raise ValidationFailed.field("attachments", f"at most {MAX_ATTACHMENTS} attachments")
    return out


def _check_aware(name: str, value: dt.datetime | None) -> None:
    if value is not None and timezone.is_naive(value):
        raise ValidationFailed.field(name, "must be an aware datetime")


def _checked(item: EnqueueItem) -> _Item:
    channel, kind = item["channel"], item["kind"]
    purpose = item.get("purpose", Purpose.SERVICE)
    send_after, not_after = item.get("send_after"), item.get("not_after")
    require_choice("channel", channel, Channel.values)
    require_choice("kind", kind, Kind.values)
    require_choice("purpose", purpose, Purpose.values)
    if kind == Kind.MARKETING and purpose != Purpose.MARKETING:
        raise ValidationFailed.field("purpose", "marketing messages need purpose 'marketing'")
    _check_aware("send_after", send_after)
    _check_aware("not_after", not_after)
    key = item.get("dedupe_key")
    return _Item(
        channel=channel,
        kind=kind,
        context=item["context"],
        purpose=purpose,
        send_after=send_after,
        not_after=not_after,
        key=(str(key)[:200] or None) if key is not None else None,
        files=_check_attachments(item.get("attachments", ())),
    )


@dataclass
class _Recipient:
    """What a batch needs to know about the patient, each read at most once."""

    org: Organization
    patient: Patient
    phone: str | None
    language: str = field(init=False)
    consent: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.language = language_for(self.patient.preferred_language)

    def address(self, channel: str) -> str | None:
        """The patient's address on the channel now: the phone to text, or the e-mail."""
        return self.phone if channel == Channel.SMS else (self.patient.email.strip() or None)

    def accepts(self, item: _Item) -> bool:
        """Service messages always; marketing only with the channel's marketing consent; while the
        patient's processing is restricted only what care needs (``ESSENTIAL_KINDS``, never marketing)."""
        if self.patient.restricted_at is not None and (
            item.purpose == Purpose.MARKETING or str(item.kind) not in ESSENTIAL_KINDS
        ):
            return False
        if item.purpose != Purpose.MARKETING:
            return True
        if item.channel not in self.consent:
            self.consent[item.channel] = selectors.marketing_allowed(
                org=self.org, patient_id=self.patient.pk, channel=item.channel
            )
        return self.consent[item.channel]


@dataclass
class _Renderer:
    """Renders a batch's messages from the organisation's overrides (read once) or the built-in
    texts; identical texts (a reminder at several offsets) are rendered once."""

    language: str
    overrides: dict[tuple[str, str], tuple[str, str]]
    cache: dict[tuple[str, str, str], Rendered] = field(default_factory=dict)

    def render(self, kind: str, channel: str, context: Mapping[str, Any]) -> Rendered:
        cache_key = (kind, channel, json.dumps(context, sort_keys=True, default=str))
        rendered = self.cache.get(cache_key)
        if rendered is None:
            source = template_source(
                kind=kind,
                channel=channel,
                language=self.language,
                override=self.overrides.get((kind, channel)),
            )
            rendered = render(source=source, channel=channel, language=self.language, context=context)
            self.cache[cache_key] = rendered
        return rendered


def message_enqueue_many(
    *, org: Organization, patient: Patient, items: Sequence[EnqueueItem], fresh_keys: bool = False
) -> list[Message | None]:
    """Queue messages to one patient; the worker sends them after the caller's transaction commits.

    The one enqueue path, in a fixed number of queries whatever the count: one dedupe lookup for
    all keys, the patient's phones and the organisation's template overrides read once, consent once
    per marketing channel, one INSERT for the messages and one for their attachments.

    Returns, in the order of ``items``: the new message; the already queued/sent message for a
    ``dedupe_key`` used before in the organisation (also earlier in the same batch: idempotent); or
    ``None`` (recording nothing) when the patient has no address on the channel, or when a marketing
    message lacks the patient's marketing consent for the channel. Every item is validated before
    anything is written. Must be called inside ``transaction.atomic()``.

    ``fresh_keys=True`` skips the dedupe lookup when the caller knows no key can exist yet (they name a
    row created in the same transaction); the unique constraint on the key still guards the insert.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("messages must be enqueued inside the caller's transaction.atomic()")
    if patient.organization_id != org.id:
        raise ValidationFailed.field("patient", "patient belongs to another organisation")
    checked = [_checked(item) for item in items]
    if not checked:
        return []
    try:
        return _enqueue(org=org, patient=patient, items=checked, lookup=not fresh_keys)
    except IntegrityError:
        # a concurrent enqueue with one of the dedupe keys committed first: once more, now finding
        # the winner's message for that key
        if not any(item.key for item in checked):
            raise
    return _enqueue(org=org, patient=patient, items=checked, lookup=True)


def message_enqueue(
    *,
    org: Organization,
    patient: Patient,
    channel: str,
    kind: str,
    context: Mapping[str, Any],
    purpose: str = Purpose.SERVICE,
    send_after: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    dedupe_key: str | None = None,
    attachments: Iterable[File] = (),
) -> Message | None:
    """Queue one message: ``message_enqueue_many`` with one item (same rules, same result)."""
    item: EnqueueItem = {
        "channel": channel,
        "kind": kind,
        "context": context,
        "purpose": purpose,
        "send_after": send_after,
        "not_after": not_after,
        "dedupe_key": dedupe_key,
        "attachments": attachments,
    }
    return message_enqueue_many(org=org, patient=patient, items=[item])[0]


def message_enqueue_code(
    *,
    org: Organization,
    channel: str,
    to: str,
    language: str,
    code_ref: str,
    context: Mapping[str, Any],
    not_after: dt.datetime | None = None,
) -> Message:
    """Queue a ``booking_code`` to an address nobody has proven yet (no patient: the visitor typed it).

    The code itself is never stored: the texts hold ``CODE_MARK`` and the context ``code_ref``; the
    worker puts ``one_time_code(code_ref)`` in their place in what it hands to the provider
    (``tasks.Worker.deliver``). The dedupe key is ``code:<code_ref>``; ``not_after`` is the code's
    expiry (never sent after it). Inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("messages must be enqueued inside the caller's transaction.atomic()")
    require_choice("channel", channel, Channel.values)
    _check_aware("not_after", not_after)
    lang = language_for(language)
    pair = (str(Kind.BOOKING_CODE), channel)
    full = {"clinic": org.name, "patient_name": "", **dict(context), "code": CODE_MARK}
    source = template_source(
        kind=Kind.BOOKING_CODE,
        channel=channel,
        language=lang,
        override=selectors.template_overrides(org=org, language=lang, pairs={pair}).get(pair),
    )
    rendered = render(source=source, channel=channel, language=lang, context=full)
    now = timezone.now()
    message = Message(
        organization=org,
        patient=None,
        channel=channel,
        kind=Kind.BOOKING_CODE,
        purpose=Purpose.SERVICE,
        language=lang,
        to=to,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        context={**dict(context), "code_ref": code_ref},
        dedupe_key=f"code:{code_ref}",
        send_after=now,
        not_after=not_after,
        created_at=now,
        updated_at=now,
    )
    message.save(force_insert=True)
    return message


def _enqueue(
    *, org: Organization, patient: Patient, items: list[_Item], lookup: bool
) -> list[Message | None]:
    keys = {item.key for item in items if item.key}
    by_key = selectors.messages_by_key(org=org, keys=keys) if lookup else {}
    todo = [item for item in items if not (item.key and item.key in by_key)]
    needs_phone = any(item.channel == Channel.SMS for item in todo)
    recipient = _Recipient(
        org=org,
        patient=patient,
        phone=patient_text_phone(org=org, patient_id=patient.pk) if needs_phone else None,
    )
    pairs = {(item.kind, item.channel) for item in todo if recipient.address(item.channel)}
    renderer = _Renderer(
        language=recipient.language,
        overrides=selectors.template_overrides(org=org, language=recipient.language, pairs=pairs),
    )
    now = timezone.now()
    out: list[Message | None] = []
    new: list[tuple[Message, list[File]]] = []
    for item in items:
        message = by_key.get(item.key) if item.key else None
        if message is None:
            message = _message(item, recipient=recipient, renderer=renderer, now=now)
            if message is not None:
                new.append((message, item.files))
                if item.key:
                    by_key[item.key] = message
        out.append(message)
    if new:
        _insert(org, new)
    return out


def _message(item: _Item, *, recipient: _Recipient, renderer: _Renderer, now: dt.datetime) -> Message | None:
    """The unsaved message of ``item``, or ``None`` when the patient is not to receive it."""
    to = recipient.address(item.channel)
    if not to or not recipient.accepts(item):
        return None
    org, patient = recipient.org, recipient.patient
    context = {"clinic": org.name, "patient_name": patient.first_name, **dict(item.context)}
    rendered = renderer.render(item.kind, item.channel, context)
    return Message(
        organization=org,
        patient=patient,
        channel=item.channel,
        kind=item.kind,
        purpose=item.purpose,
        language=recipient.language,
        to=to,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        context=dict(item.context),
        dedupe_key=item.key,
        send_after=item.send_after or now,
        not_after=item.not_after,
        created_at=now,
        updated_at=now,
    )


def _insert(org: Organization, new: list[tuple[Message, list[File]]]) -> None:
    """One INSERT for the messages and one for their attachments, in a savepoint (a dedupe key taken
    concurrently rolls back only this)."""
    with transaction.atomic():
        Message.objects.bulk_create([message for message, _ in new])
        attachments = [
            MessageAttachment(organization=org, message=message, filename=n, content_type=t, content=c)
            for message, files in new
            for n, t, c in files
        ]
        if attachments:
            MessageAttachment.objects.bulk_create(attachments)


def _cancel(qs: QuerySet[Message], reason: str) -> int:
    """Cancel the queued messages of ``qs``, freeing their dedupe keys for a later enqueue."""
    return qs.filter(status=Status.QUEUED).update(
        status=Status.CANCELLED,
        cancelled_key=Coalesce(F("dedupe_key"), Value("")),
        dedupe_key=None,
        last_error=reason[:500],
        updated_at=timezone.now(),
    )


def message_cancel(*, org: Organization, dedupe_key_prefix: str) -> int:
    """Cancel queued messages whose dedupe key starts with the prefix (e.g. ``appt:<id>:``).

    Messages already being sent, sent or failed are left alone. Cancelling frees the key, so the
    same key may be enqueued again (a rescheduled appointment's new reminder). Returns the count."""
    if not dedupe_key_prefix:
        raise ValidationFailed.field("dedupe_key_prefix", "is required")
    qs = Message.objects.for_org(org).filter(dedupe_key__startswith=dedupe_key_prefix)
    return _cancel(qs, "cancelled by the application")


def messages_cancel_for_withdrawn_consent(org: Organization, patient: Patient, purpose: str) -> int:
    """The consent-withdrawal hook: cancel the patient's queued marketing messages on that channel."""
    channels = [ch for ch, p in MARKETING_PURPOSE_BY_CHANNEL.items() if p == purpose and ch in Channel.values]
    if not channels:
        return 0
    qs = Message.objects.for_org(org).filter(patient=patient, purpose=Purpose.MARKETING, channel__in=channels)
    return _cancel(qs, "marketing consent withdrawn")
