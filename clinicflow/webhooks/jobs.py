"""Periodic work of the webhooks app (``WebhooksConfig.periodic``)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from clinicflow.webhooks.models import Delivery, DeliveryStatus
from clinicflow.webhooks.services import attempt

BATCH = 50


def deliver_due() -> str:
    """Attempt up to ``BATCH`` due deliveries, oldest first; each is claimed by pushing its next
    attempt a minute ahead first, so a second worker does not send it twice meanwhile."""
    now = timezone.now()
    with transaction.atomic():
        qs = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        ids = list(
            qs.order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:BATCH]
        )
        Delivery.objects.filter(pk__in=ids).update(next_attempt_at=now + dt.timedelta(minutes=1))
    delivered = failed = 0
    for delivery in Delivery.objects.filter(pk__in=ids).select_related("subscription").order_by("created_at"):
        done = attempt(delivery, now=now)
        delivered += done.status == DeliveryStatus.DELIVERED
        failed += done.status != DeliveryStatus.DELIVERED
    return f"webhooks: {delivered} delivered, {failed} not delivered of {len(ids)} due"
