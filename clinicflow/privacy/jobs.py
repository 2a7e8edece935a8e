"""Periodic work of the privacy app (``PrivacyConfig.periodic``)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from clinicflow.core.models import Organization
from clinicflow.privacy.models import RetentionRun
from clinicflow.privacy.retention.run import retention_run

NIGHT = 24 * 3600


def retention_nightly() -> str:
    """Run retention for each organisation not yet run (for real) in the last 23 hours."""
    since = timezone.now() - dt.timedelta(hours=23)
    done = set(
        RetentionRun.objects.filter(dry_run=False, started_at__gte=since).values_list(
            "organization_id", flat=True
        )
    )
    changed = runs = 0
    for org in Organization.objects.exclude(pk__in=done).order_by("pk")[:50]:
        run = retention_run(org=org, dry_run=False)
        runs += 1
        changed += sum(v for k, v in run.counts.items() if not k.endswith("_past_period"))
    return f"retention: {runs} organisations, {changed} records pseudonymised or deleted"
