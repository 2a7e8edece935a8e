"""Webhook dead letters: deliveries refused after a valid secret are kept, then replayed or discarded
by staff."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from clinicflow.acquisition.ingestion.ingest import call_ingest
from clinicflow.acquisition.models import Integration, WebhookEvent, WebhookStatus
from clinicflow.acquisition.providers import PROVIDERS
from clinicflow.acquisition.providers.body import PayloadProblem, parse_body
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, NotFound, ValidationFailed
from clinicflow.core.models import AuditAction, Organization

if TYPE_CHECKING:
    from clinicflow.accounts.models import User

HEADER_KEEP = ("Content-Type", "Content-Length", "User-Agent", "Signature", "X-Clinicflow-Signature")


def dead_letter_store(
    *,
    integration: Integration,
    http_status: int,
    error: str,
    content_type: str,
    headers: Mapping[str, str],
    body: bytes,
    limit: int,
) -> WebhookEvent:
    truncated = len(body) > limit
    return WebhookEvent.objects.create(
        organization_id=integration.organization_id,
        integration=integration,
        provider=integration.provider,
        http_status=http_status,
        error=error[:500],
        content_type=content_type[:100],
        headers={k: str(headers.get(k, ""))[:300] for k in HEADER_KEEP if headers.get(k)},
        body=body[:limit].decode("utf-8", errors="replace").replace("\x00", "\ufffd"),  # no NUL in text
        body_truncated=truncated,
    )


def _audit(org: Organization, actor: User | None, event: WebhookEvent) -> None:
    audit_record(
        org=org, actor=actor, action=AuditAction.UPDATE, object_type="webhook_event", object_id=event.pk
    )


@transaction.atomic
def dead_letter_replay(*, org: Organization, actor: User | None, event: WebhookEvent) -> WebhookEvent:
    """Run a stored delivery through its provider's current normaliser again."""
    if event.organization_id != org.id:
        raise NotFound("dead letter not found")
    if event.status == WebhookStatus.REPLAYED:
        raise Conflict("this delivery was already replayed")
    integration = Integration.objects.for_org(org).filter(pk=event.integration_id).first()
    spec = PROVIDERS[event.provider]
    try:
        if event.body_truncated:
            raise PayloadProblem(413, "the body was larger than the limit and was not kept whole")
        payload = parse_body(event.body.encode(), event.content_type)
        normalised = spec.normalise(payload)
        result = call_ingest(
            org=org, integration=integration, provider=event.provider, event=normalised, payload=payload
        )
    except Exception as exc:
        event.replay_error = str(exc)[:500]
        event.replayed_at = timezone.now()
        event.save(update_fields=["replay_error", "replayed_at"])
        _audit(org, actor, event)
        raise ValidationFailed(f"replay failed: {str(exc)[:300]}") from exc
    event.status = WebhookStatus.REPLAYED
    event.replayed_at = timezone.now()
    event.replay_error = ""
    event.call = result.call
    event.save(update_fields=["status", "replayed_at", "replay_error", "call"])
    _audit(org, actor, event)
    return event


@transaction.atomic
def dead_letter_discard(*, org: Organization, actor: User | None, event: WebhookEvent) -> WebhookEvent:
    if event.organization_id != org.id:
        raise NotFound("dead letter not found")
    event.status = WebhookStatus.DISCARDED
    event.save(update_fields=["status"])
    _audit(org, actor, event)
    return event
