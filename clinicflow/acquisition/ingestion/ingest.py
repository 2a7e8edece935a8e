"""``call_ingest``: one provider call event becomes one stored call (idempotent by the provider's call
id). PostgreSQL takes the one-statement path (``pgsql``), other databases the portable path
(``portable``); both are built from ``rules``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.utils import timezone

from clinicflow.acquisition.ingestion import pgsql, portable
from clinicflow.acquisition.ingestion.event import IngestResult, incoming
from clinicflow.acquisition.models import Integration
from clinicflow.acquisition.providers import CallEvent
from clinicflow.core.models import Organization

TOUCH_EVERY = dt.timedelta(minutes=1)


def call_ingest(
    *,
    org: Organization,
    integration: Integration | None,
    provider: str,
    event: CallEvent,
    payload: Mapping[str, Any],
) -> IngestResult:
    """Upsert one call event on (organisation, provider, provider call id).

    Duplicates and out-of-order events end as one row: the status never goes backwards (a lower-rank
    event only fills empty fields), so any order of the same events gives the same row."""
    item = incoming(org=org, integration=integration, provider=provider, event=event, payload=payload)
    result = pgsql.ingest(item) if connection.vendor == "postgresql" else None
    if result is None:
        result = portable.ingest(item)
    _touch_integration(integration)
    return result


def _touch_integration(integration: Integration | None) -> None:
    """Record the integration's last event, at most once a minute per process."""
    if integration is not None:
        now = timezone.now()
        if integration.last_event_at is None or now - integration.last_event_at > TOUCH_EVERY:
            integration.last_event_at = now
            Integration.objects.filter(pk=integration.pk).update(last_event_at=now)
