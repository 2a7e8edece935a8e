"""Reads of the outbox. Every function takes the organisation first."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Count, QuerySet

from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
from clinicflow.messaging.catalog import BUILTIN, LANGUAGES
from clinicflow.messaging.models import Channel, Kind, Message, MessageTemplate, Status


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
    return qs.order_by("-created_at", "-id")


def message_status_counts(*, org: Organization) -> dict[str, int]:
    rows = Message.objects.for_org(org).values("status").annotate(n=Count("id")).order_by()
    counts = dict.fromkeys(Status.values, 0)
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


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


def message_template_get(*, org: Organization, kind: str, channel: str, language: str) -> dict[str, object]:
    """The text in effect: the organisation's override or the built-in default."""
    if kind not in Kind.values or channel not in Channel.values or language not in LANGUAGES:
        raise NotFound("template not found")
    row = MessageTemplate.objects.for_org(org).filter(kind=kind, channel=channel, language=language).first()
    builtin = BUILTIN[kind][language]
    default_subject = "" if channel == Channel.SMS else builtin["subject"]
    default_body = builtin["sms"] if channel == Channel.SMS else builtin["body"]
    return {
        "row": row,
        "subject": row.subject if row else default_subject,
        "body": row.body if row else default_body,
        "default_subject": default_subject,
        "default_body": default_body,
    }
