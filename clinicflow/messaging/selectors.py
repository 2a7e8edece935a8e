"""Reads of the outbox, its templates and settings. Every function takes the organisation first."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform

from clinicflow.core.errors import NotFound
from clinicflow.core.models import Branch, Organization
from clinicflow.messaging.catalog import LANGUAGES
from clinicflow.messaging.models import (
    Channel,
    Kind,
    Message,
    MessageAttachment,
    MessageTemplate,
    MessagingSettings,
    Status,
)
from clinicflow.messaging.rendering import template_source
from clinicflow.patients.models import MARKETING_PURPOSE_BY_CHANNEL
from clinicflow.patients.selectors import has_consent


@dataclass(frozen=True)
class MessageFilters:
    status: str = ""
    kind: str = ""
    channel: str = ""
    patient_id: uuid.UUID | None = None


def message_list(*, org: Organization, filters: MessageFilters | None = None) -> QuerySet[Message]:
    """The organisation's messages, newest first, without bodies."""
    f = filters or MessageFilters()
    qs = (
        Message.objects.for_org(org)
        .select_related("patient")
        .defer("body_text", "body_html", "context", "patient__clinical_notes", "patient__notes")
    )
    if f.status:
        qs = qs.filter(status=f.status)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.patient_id is not None:
        qs = qs.filter(patient_id=f.patient_id)
    return qs.annotate(branch_name=KeyTextTransform("branch", "context")).order_by("-created_at", "-id")


def message_zones(*, org: Organization, messages: Iterable[Message]) -> dict[uuid.UUID, str]:
    """Each message's clinic time zone: its branch (by the name in its context), else the patient's
    home branch, else the organisation's first branch, else UTC."""
    branches = list(Branch.objects.for_org(org).order_by("name").values_list("pk", "name", "timezone"))
    by_name = {name: zone for _pk, name, zone in branches}
    by_id = {pk: zone for pk, _name, zone in branches}
    default = branches[0][2] if branches else "UTC"
    out: dict[uuid.UUID, str] = {}
    for m in messages:
        home = by_id.get(m.patient.branch_id) if m.patient is not None and m.patient.branch_id else None
        out[m.pk] = by_name.get(getattr(m, "branch_name", None) or "") or home or default
    return out


def message_get(*, org: Organization, message_id: uuid.UUID) -> Message:
    """One of the organisation's messages (``NotFound`` otherwise)."""
    message = Message.objects.for_org(org).filter(pk=message_id).first()
    if message is None:
        raise NotFound("message not found")
    return message


def message_status_counts(*, org: Organization) -> dict[str, int]:
    rows = Message.objects.for_org(org).values("status").annotate(n=Count("id")).order_by()
    counts = dict.fromkeys(Status.values, 0)
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def messages_by_key(*, org: Organization, keys: Collection[str]) -> dict[str, Message]:
    """The organisation's live (not cancelled) messages holding these dedupe keys, by key."""
    if not keys:
        return {}
    found = Message.objects.for_org(org).filter(dedupe_key__in=sorted(keys))
    return {m.dedupe_key: m for m in found if m.dedupe_key}


def pending_count(*, org: Organization) -> int:
    """Messages queued or being sent."""
    return Message.objects.for_org(org).filter(Q(status=Status.QUEUED) | Q(status=Status.SENDING)).count()


def message_attachments(*, org: Organization, message_id: uuid.UUID) -> list[MessageAttachment]:
    return list(MessageAttachment.objects.for_org(org).filter(message_id=message_id).order_by("id"))


def marketing_allowed(*, org: Organization, patient_id: uuid.UUID, channel: str) -> bool:
    """Whether the patient's latest marketing consent for the channel is a grant."""
    purpose = MARKETING_PURPOSE_BY_CHANNEL.get(channel)
    return purpose is not None and has_consent(org=org, patient_id=patient_id, purpose=purpose)


def messaging_settings_get(*, org: Organization) -> MessagingSettings:
    """The organisation's settings (unsaved defaults when it has none yet)."""
    found = MessagingSettings.objects.for_org(org).first()
    return found or MessagingSettings(organization=org)


def cross_border_allowed(*, org: Organization) -> bool:
    return MessagingSettings.objects.for_org(org).filter(allow_cross_border=True).exists()


def template_overrides(
    *, org: Organization, language: str, pairs: Collection[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, str]]:
    """The organisation's overrides ``(subject, body)`` by ``(kind, channel)`` for one language, in one
    query (covering at least ``pairs``)."""
    if not pairs:
        return {}
    rows = (
        MessageTemplate.objects.for_org(org)
        .filter(
            language=language,
            kind__in=sorted({kind for kind, _ in pairs}),
            channel__in=sorted({channel for _, channel in pairs}),
        )
        .values_list("kind", "channel", "subject", "body")
    )
    return {(kind, channel): (subject, body) for kind, channel, subject, body in rows}


def message_template_table(*, org: Organization) -> list[dict[str, object]]:
    """Every (kind, channel, language) with whether the organisation overrides it."""
    overridden = set(
        MessageTemplate.objects.for_org(org).values_list("kind", "channel", "language").order_by()
    )
    return [
        {
            "kind": kind,
            "label": label,
            "channel": channel,
            "language": language,
            "overridden": (kind, channel, language) in overridden,
        }
        for kind, label in Kind.choices
        for channel in Channel.values
        for language in LANGUAGES
    ]


def _template_key_valid(kind: str, channel: str, language: str) -> bool:
    return kind in Kind.values and channel in Channel.values and language in LANGUAGES


def message_template_override_get(
    *, org: Organization, kind: str, channel: str, language: str
) -> MessageTemplate:
    """The organisation's override of one template; ``NotFound`` when it has none."""
    row = None
    if _template_key_valid(kind, channel, language):
        row = (
            MessageTemplate.objects.for_org(org).filter(kind=kind, channel=channel, language=language).first()
        )
    if row is None:
        raise NotFound("template not found")
    return row


def message_template_get(*, org: Organization, kind: str, channel: str, language: str) -> dict[str, object]:
    """The text in effect: the organisation's override or the built-in default."""
    if not _template_key_valid(kind, channel, language):
        raise NotFound("template not found")
    row = MessageTemplate.objects.for_org(org).filter(kind=kind, channel=channel, language=language).first()
    default = template_source(kind=kind, channel=channel, language=language)
    return {
        "row": row,
        "subject": row.subject if row else default.subject,
        "body": row.body if row else default.body,
        "default_subject": default.subject,
        "default_body": default.body,
    }
