"""Reads of telephony integrations and their dead letters. Every function takes the organisation."""

from __future__ import annotations

from django.db.models import QuerySet
from django.db.models.functions import Length

from clinicflow.acquisition.models import Integration, WebhookEvent, WebhookStatus
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid


def integrations(*, org: Organization) -> QuerySet[Integration]:
    qs: QuerySet[Integration] = (
        Integration.objects.for_org(org).select_related("branch").order_by("created_at")
    )
    return qs


def integration_get(*, org: Organization, integration_id: object) -> Integration:
    pk = parse_uuid(integration_id)
    row = integrations(org=org).filter(pk=pk).first() if pk else None
    if row is None:
        raise NotFound("integration not found")
    return row


def dead_letters(*, org: Organization, status: str = WebhookStatus.DEAD) -> QuerySet[WebhookEvent]:
    qs: QuerySet[WebhookEvent] = (
        WebhookEvent.objects.for_org(org).filter(status=status).order_by("-received_at")
    )
    return qs


def dead_letter_list(*, org: Organization, status: str = WebhookStatus.DEAD) -> QuerySet[WebhookEvent]:
    """Dead letters without their bodies; ``size`` = the body's length in characters."""
    return dead_letters(org=org, status=status).defer("body", "headers").annotate(size=Length("body"))


def dead_letter_get(*, org: Organization, event_id: object) -> WebhookEvent:
    pk = parse_uuid(event_id)
    row: WebhookEvent | None = WebhookEvent.objects.for_org(org).filter(pk=pk).first() if pk else None
    if row is None:
        raise NotFound("dead letter not found")
    return row
