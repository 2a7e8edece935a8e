"""Writes of the webhooks app: subscriptions (URL checked against IN-05 when saved and again at each
delivery), queueing an event for every subscription that wants it, replay, and one delivery attempt
with exponential back-off."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditAction, Organization
from clinicflow.webhooks.models import Delivery, DeliveryStatus, Event, Subscription
from clinicflow.webhooks.outbound import Resolver, check_url, post
from clinicflow.webhooks.selectors import subscriptions_for_event
from clinicflow.webhooks.signing import HEADER, header_value, new_secret

MAX_ATTEMPTS = 8
BASE_DELAY = 30  # seconds; attempt n waits BASE_DELAY * 2**(n-1): 30 s, 1 min, 2 min ... ~64 min
USER_AGENT = "Clinicflow-Webhooks/1"


def _events(events: Iterable[str]) -> list[str]:
    wanted = sorted(set(events))
    bad = [e for e in wanted if e not in Event.values]
    if bad or not wanted:
        raise ValidationFailed.field("events", f"choose one or more of {', '.join(Event.values)}")
    return wanted


def subscription_create(
    *,
    org: Organization,
    actor: User | None,
    url: str,
    events: Iterable[str],
    description: str = "",
    resolve: Resolver | None = None,
    request: HttpRequest | None = None,
) -> Subscription:
    check_url(url, resolve=resolve)
    row = Subscription.objects.create(
        organization=org,
        url=url.strip(),
        events=_events(events),
        secret=new_secret(),
        description=description[:200],
        created_by=actor if actor and actor.pk else None,
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="webhook_subscription",
        object_id=row.pk,
        fields=["url", "events"],
        request=request,
    )
    return row


def subscription_update(
    *,
    org: Organization,
    actor: User | None,
    subscription: Subscription,
    changes: dict[str, Any],
    resolve: Resolver | None = None,
    request: HttpRequest | None = None,
) -> Subscription:
    if subscription.organization_id != org.id:
        raise ValidationFailed("subscription belongs to another organisation")
    if "url" in changes:
        check_url(changes["url"], resolve=resolve)
        subscription.url = changes["url"].strip()
    if "events" in changes:
        subscription.events = _events(changes["events"])
    if "is_active" in changes:
        subscription.is_active = bool(changes["is_active"])
    if "description" in changes:
        subscription.description = str(changes["description"])[:200]
    if changes.get("rotate_secret"):
        subscription.secret = new_secret()
    subscription.save()
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="webhook_subscription",
        object_id=subscription.pk,
        fields=sorted(changes),
        request=request,
    )
    return subscription


def subscription_delete(
    *, org: Organization, actor: User | None, subscription: Subscription, request: HttpRequest | None = None
) -> None:
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.DELETE,
        object_type="webhook_subscription",
        object_id=subscription.pk,
        request=request,
    )
    Subscription.objects.for_org(org).filter(pk=subscription.pk).delete()


def enqueue(*, org_id: uuid.UUID, event: str, data: dict[str, Any]) -> int:
    """Queue ``event`` for every active subscription of the organisation that wants it, in the
    caller's transaction (rolled back with it). Returns the number of deliveries queued."""
    subs = subscriptions_for_event(org_id=org_id, event=event)
    if not subs:
        return 0
    event_id = uuid.uuid4()
    payload = {
        "id": str(event_id),
        "type": event,
        "created": timezone.now().isoformat(),
        "data": json.loads(json.dumps(data, cls=DjangoJSONEncoder)),
    }
    Delivery.objects.bulk_create(
        [
            Delivery(
                organization_id=s.organization_id,
                subscription=s,
                event=event,
                event_id=event_id,
                payload=payload,
            )
            for s in subs
        ]
    )
    return len(subs)


def delivery_replay(
    *, org: Organization, actor: User | None, delivery: Delivery, request: HttpRequest | None = None
) -> Delivery:
    """A new delivery of the same event and payload (same event id: receivers deduplicate on it)."""
    row = Delivery.objects.create(
        organization=org,
        subscription=delivery.subscription,
        event=delivery.event,
        event_id=delivery.event_id,
        payload=delivery.payload,
        replay_of=delivery,
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="webhook_delivery",
        object_id=row.pk,
        fields=["replay_of"],
        request=request,
    )
    return row


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=BASE_DELAY * 2 ** max(attempts - 1, 0))


def body_of(delivery: Delivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def attempt(
    delivery: Delivery, *, resolve: Resolver | None = None, now: dt.datetime | None = None
) -> Delivery:
    """Send once; on failure schedule the next attempt (or give up after ``MAX_ATTEMPTS``)."""
    now = now or timezone.now()
    sub = delivery.subscription
    delivery.attempts += 1
    code: int | None = None
    error = ""
    try:
        target = check_url(sub.url, resolve=resolve)
        body = body_of(delivery)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            HEADER: header_value(sub.secret, body),
            "Clinicflow-Event": delivery.event,
            "Clinicflow-Delivery": str(delivery.pk),
        }
        response = post(target, body, headers)
        code = response.status
        if not 200 <= code < 300:
            error = f"HTTP {code}" + (" (redirects are not followed)" if 300 <= code < 400 else "")
    except ValidationFailed as exc:
        error = "; ".join(m for ms in exc.fields.values() for m in ms) or exc.message
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc}"
    delivery.last_status_code = code
    delivery.last_error = error[:300]
    if not error:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    with transaction.atomic():
        delivery.save()
    return delivery
