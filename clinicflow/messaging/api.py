"""Messaging API: the outbox, read-only. Message bodies are never returned."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from ninja import Field, Query, Router, Schema

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.core.api import ERRORS
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditAction
from clinicflow.core.selectors import parse_uuid
from clinicflow.messaging import selectors
from clinicflow.messaging.models import Channel, Kind, Message, Status

router = Router(tags=["messaging"])


class MessageOut(Schema):
    id: str
    patient_id: str | None
    channel: str
    kind: str
    purpose: str
    language: str
    status: str
    to: str | None
    attempts: int
    last_error: str
    send_after: dt.datetime
    sent_at: dt.datetime | None
    created_at: dt.datetime
    provider_message_id: str
    zone: str = Field(description="The clinic's time zone; the times carry its UTC offset.")


class MessagePageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[MessageOut]


class MessageParams(Schema):
    status: str | None = None
    kind: str | None = None
    channel: str | None = None
    patient: str | None = None
    limit: int = 50
    offset: int = 0


def message_out(m: Message, *, contacts: bool, zone: str = "UTC") -> dict[str, Any]:
    tz = ZoneInfo(zone)
    return {
        "id": str(m.pk),
        "patient_id": str(m.patient_id) if m.patient_id else None,
        "channel": m.channel,
        "kind": m.kind,
        "purpose": m.purpose,
        "language": m.language,
        "status": m.status,
        "to": m.to if contacts else None,
        "attempts": m.attempts,
        "last_error": m.last_error,
        "send_after": m.send_after.astimezone(tz),
        "sent_at": m.sent_at.astimezone(tz) if m.sent_at else None,
        "created_at": m.created_at.astimezone(tz),
        "provider_message_id": m.provider_message_id,
        "zone": zone,
    }


@router.get("/messages", response={200: MessagePageOut, **ERRORS})
@api_perm("messaging.view")
def message_list(request: ApiRequest, params: Query[MessageParams]) -> dict[str, Any]:
    """The outbox, newest first. Filters: `status`, `kind`, `channel`, `patient` (id). No bodies;
    the recipient (`to`) only for roles that may see patients' contacts."""
    org, user = request.org, request.auth
    if not 1 <= params.limit <= 200 or not 0 <= params.offset <= 10_000_000:
        raise ValidationFailed.field("limit", "limit must be 1..200 and offset 0..10000000")
    if params.status and params.status not in Status.values:
        raise ValidationFailed.field("status", f"must be one of {', '.join(Status.values)}")
    if params.kind and params.kind not in Kind.values:
        raise ValidationFailed.field("kind", f"must be one of {', '.join(Kind.values)}")
    if params.channel and params.channel not in Channel.values:
        raise ValidationFailed.field("channel", f"must be one of {', '.join(Channel.values)}")
    patient_id = parse_uuid(params.patient) if params.patient else None
    if params.patient and patient_id is None:
        raise ValidationFailed.field("patient", "must be a patient id")
    filters = selectors.MessageFilters(
        status=params.status or "",
        kind=params.kind or "",
        channel=params.channel or "",
        patient_id=patient_id,
    )
    qs = selectors.message_list(org=org, filters=filters)
    items = list(qs[params.offset : params.offset + params.limit])
    zones = selectors.message_zones(org=org, messages=items)
    contacts = user.has_perm_cf("patients.view_contacts")
    audit_record(
        org=org,
        actor=user,
        action=AuditAction.LIST,
        object_type="message",
        object_id=str(patient_id or ""),
        fields=["to"] if contacts else [],
        request=request,
    )
    return {
        "count": qs.count(),
        "limit": params.limit,
        "offset": params.offset,
        "items": [message_out(m, contacts=contacts, zone=zones[m.pk]) for m in items],
    }
