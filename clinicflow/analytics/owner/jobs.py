"""The worker's periodic job: today's and yesterday's facts of every organisation, again from the raw
tables (a bounded, idempotent unit of work)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from clinicflow.analytics.owner.facts import build
from clinicflow.core.models import Organization

INTERVAL_SECONDS = 60


def refresh_facts() -> str:
    """Rebuild the facts of yesterday and today (UTC, ±1 day covers every zone) for each organisation."""
    today = timezone.now().date()
    n = 0
    for org in Organization.objects.order_by("pk"):
        build(org, today - dt.timedelta(days=1), today + dt.timedelta(days=1))
        n += 1
    return f"facts refreshed for {n} organisations around {today.isoformat()}"
