"""Reads of the webhooks app. Every function takes the organisation first."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.webhooks.models import Delivery, Subscription


def subscription_list(*, org: Organization) -> list[Subscription]:
    return list(Subscription.objects.for_org(org).order_by("created_at"))


def subscription_get(*, org: Organization, subscription_id: object) -> Subscription:
    pk = parse_uuid(subscription_id)
    found = Subscription.objects.for_org(org).filter(pk=pk).first() if pk else None
    if found is None:
        raise NotFound("subscription not found")
    return found


def subscriptions_for_event(*, org_id: uuid.UUID, event: str) -> list[Subscription]:
    rows = Subscription.objects.filter(organization_id=org_id, is_active=True)
    return [row for row in rows if event in (row.events or [])]


def delivery_list(
    *, org: Organization, subscription: Subscription | None = None, status: str = "", limit: int = 200
) -> QuerySet[Delivery]:
    qs = Delivery.objects.for_org(org).select_related("subscription")
    if subscription is not None:
        qs = qs.filter(subscription=subscription)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at")[:limit]


def delivery_get(*, org: Organization, delivery_id: object) -> Delivery:
    pk = parse_uuid(delivery_id)
    found = Delivery.objects.for_org(org).select_related("subscription").filter(pk=pk).first() if pk else None
    if found is None:
        raise NotFound("delivery not found")
    return found
