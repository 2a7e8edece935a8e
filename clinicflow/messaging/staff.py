"""Messages to staff (no patient): the same outbox, rendering and worker as the patients' messages.

``message_enqueue_staff`` queues an e-mail of a staff kind (``STAFF_KINDS``) to a staff member's
address in their language, inside the caller's transaction, idempotent by ``dedupe_key`` (the message
already queued or sent for the key is returned). A staff message is a service message: no marketing
consent applies, and the worker's residency rule treats it as data of no patient."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinicflow.core.errors import ValidationFailed, require_choice
from clinicflow.core.models import Organization
from clinicflow.messaging import selectors
from clinicflow.messaging.models import Channel, Kind, Message, Purpose
from clinicflow.messaging.rendering import language_for, render, template_source

STAFF_KINDS = frozenset({str(Kind.OWNER_ALERT.value)})


def message_enqueue_staff(
    *,
    org: Organization,
    to: str,
    name: str,
    language: str,
    kind: str,
    context: Mapping[str, Any],
    dedupe_key: str,
    channel: str = Channel.EMAIL,
) -> Message:
    """Queue one message of a staff kind to ``to`` (an e-mail address); ``name`` greets them."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("messages must be enqueued inside the caller's transaction.atomic()")
    require_choice("kind", kind, sorted(STAFF_KINDS))
    require_choice("channel", channel, Channel.values)
    if not to.strip():
        raise ValidationFailed.field("to", "an address is required")
    key = dedupe_key[:200]
    found = selectors.messages_by_key(org=org, keys={key}).get(key)
    if found is not None:
        return found
    lang = language_for(language)
    pair = (kind, channel)
    full = {"clinic": org.name, **dict(context), "patient_name": name}
    source = template_source(
        kind=kind,
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
        kind=kind,
        purpose=Purpose.SERVICE,
        language=lang,
        to=to.strip(),
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        context=dict(context),
        dedupe_key=key,
        send_after=now,
        created_at=now,
        updated_at=now,
    )
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:  # a concurrent enqueue with the same key committed first
        return selectors.messages_by_key(org=org, keys={key})[key]
    return message
