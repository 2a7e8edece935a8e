"""The worker's periodic jobs of the daily facts: ``apply_changes`` (every minute) applies the changes
recorded since the last run (``owner.changes``); ``refresh_facts`` (hourly) builds yesterday's, today's
and tomorrow's facts again from the raw tables, so what no signal records (bulk writes, schedule edits
that move the load) is right within the hour. Both are bounded, idempotent units of work."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from clinicflow.analytics.models import FactsChange
from clinicflow.analytics.owner.changes import apply_changes
from clinicflow.analytics.owner.facts import build
from clinicflow.core.models import Organization

INTERVAL_SECONDS = 60


def apply_recorded_changes() -> str:
    """Apply each organisation's recorded changes (a batch per organisation per run)."""
    orgs = FactsChange.objects.order_by().values_list("organization_id", flat=True).distinct()
    changes = days = 0
    for org in Organization.objects.filter(pk__in=list(orgs)).order_by("pk"):
        applied = apply_changes(org)
        changes += applied.changes
        days += applied.days
    return f"facts: {changes} changes applied, {days} days built"


def refresh_facts() -> str:
    """Rebuild the facts of yesterday and today (UTC, ±1 day covers every zone) for each organisation."""
    today = timezone.now().date()
    n = 0
    for org in Organization.objects.order_by("pk"):
        build(org, today - dt.timedelta(days=1), today + dt.timedelta(days=1))
        n += 1
    return f"facts refreshed for {n} organisations around {today.isoformat()}"
