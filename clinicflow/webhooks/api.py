"""The webhooks app's API, mounted under /api/v1/ (``webhooks.manage``): subscriptions CRUD, the
delivery log and replay. Thin handlers over the selectors and services the pages use."""

import datetime as dt
import uuid
from typing import Any

from ninja import Field, Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.core.api import ERRORS
from clinicflow.webhooks import selectors, services
from clinicflow.webhooks.models import Delivery, Subscription

router = Router(tags=["webhooks"])
PERM = "webhooks.manage"


class SubscriptionIn(Schema):
    model_config = ConfigDict(extra="ignore")

    url: str = Field(..., max_length=500)
    events: list[str] = Field(..., min_length=1, max_length=20)
    description: str = Field("", max_length=200)


class SubscriptionPatch(Schema):
    model_config = ConfigDict(extra="ignore")

    url: str | None = Field(None, max_length=500)
    events: list[str] | None = Field(None, max_length=20)
    description: str | None = Field(None, max_length=200)
    is_active: bool | None = None
    rotate_secret: bool = False


class SubscriptionOut(Schema):
    id: uuid.UUID
    url: str
    events: list[str]
    description: str
    is_active: bool
    secret: str
    created_at: dt.datetime


class DeliveryOut(Schema):
    id: uuid.UUID
    subscription_id: uuid.UUID
    event: str
    event_id: uuid.UUID
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    last_status_code: int | None
    last_error: str
    delivered_at: dt.datetime | None
    replay_of_id: uuid.UUID | None
    created_at: dt.datetime
    payload: dict[str, Any]


def _sub(row: Subscription) -> dict[str, Any]:
    return {
        "id": row.pk,
        "url": row.url,
        "events": list(row.events),
        "description": row.description,
        "is_active": row.is_active,
        "secret": row.secret,
        "created_at": row.created_at,
    }


def _delivery(row: Delivery) -> dict[str, Any]:
    return {
        "id": row.pk,
        "subscription_id": row.subscription_id,
        "event": row.event,
        "event_id": row.event_id,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at,
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "delivered_at": row.delivered_at,
        "replay_of_id": row.replay_of_id,
        "created_at": row.created_at,
        "payload": row.payload,
    }


@router.get("/webhooks/subscriptions", response={200: list[SubscriptionOut], **ERRORS})
@api_perm(PERM)
def subscription_list(request: ApiRequest) -> list[dict[str, Any]]:
    """The organisation's subscriptions, oldest first, with their signing secrets."""
    return [_sub(row) for row in selectors.subscription_list(org=request.org)]


@router.post("/webhooks/subscriptions", response={201: SubscriptionOut, **ERRORS})
@api_perm(PERM)
def subscription_create(request: ApiRequest, payload: SubscriptionIn) -> Status[dict[str, Any]]:
    """Subscribe a URL to events; the URL must pass the outbound checks (422 naming ``url``)."""
    row = services.subscription_create(
        org=request.org,
        actor=request.auth,
        url=payload.url,
        events=payload.events,
        description=payload.description,
        request=request,
    )
    return Status(201, _sub(row))


@router.get("/webhooks/subscriptions/{subscription_id}", response={200: SubscriptionOut, **ERRORS})
@api_perm(PERM, audit_object="webhook_subscription")
def subscription_detail(request: ApiRequest, subscription_id: str) -> dict[str, Any]:
    """One subscription; another organisation's id is a 404."""
    return _sub(selectors.subscription_get(org=request.org, subscription_id=subscription_id))


@router.patch("/webhooks/subscriptions/{subscription_id}", response={200: SubscriptionOut, **ERRORS})
@api_perm(PERM, audit_object="webhook_subscription")
def subscription_update(
    request: ApiRequest, subscription_id: str, payload: SubscriptionPatch
) -> dict[str, Any]:
    """Change the URL, events, description or state, or rotate the secret."""
    row = selectors.subscription_get(org=request.org, subscription_id=subscription_id)
    changes = payload.model_dump(exclude_none=True)
    row = services.subscription_update(
        org=request.org, actor=request.auth, subscription=row, changes=changes, request=request
    )
    return _sub(row)


@router.delete("/webhooks/subscriptions/{subscription_id}", response={204: None, **ERRORS})
@api_perm(PERM, audit_object="webhook_subscription")
def subscription_delete(request: ApiRequest, subscription_id: str) -> Status[None]:
    """Delete a subscription and its delivery log."""
    row = selectors.subscription_get(org=request.org, subscription_id=subscription_id)
    services.subscription_delete(org=request.org, actor=request.auth, subscription=row, request=request)
    return Status(204, None)


@router.get("/webhooks/deliveries", response={200: list[DeliveryOut], **ERRORS})
@api_perm(PERM)
def delivery_list(request: ApiRequest, status: str = "", subscription: str = "") -> list[dict[str, Any]]:
    """The latest 200 deliveries, newest first; filter by ``status`` or ``subscription`` id."""
    sub = selectors.subscription_get(org=request.org, subscription_id=subscription) if subscription else None
    return [
        _delivery(row) for row in selectors.delivery_list(org=request.org, subscription=sub, status=status)
    ]


@router.post("/webhooks/deliveries/{delivery_id}/replay", response={201: DeliveryOut, **ERRORS})
@api_perm(PERM, audit_object="webhook_delivery")
def delivery_replay(request: ApiRequest, delivery_id: str) -> Status[dict[str, Any]]:
    """Queue the delivery again (same event id and payload)."""
    row = selectors.delivery_get(org=request.org, delivery_id=delivery_id)
    return Status(
        201,
        _delivery(
            services.delivery_replay(org=request.org, actor=request.auth, delivery=row, request=request)
        ),
    )
