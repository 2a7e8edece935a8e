"""Idempotency keys of the money-moving API calls (Stripe's rules).

One row per (organisation, key): the fingerprint of the first request (method, path and body) and,
once it finished, the status and body it answered. The same key with the same request replays that
answer; with another request it is refused (409). Rows are kept at least ``KEEP`` (24 h), then
purged by the periodic job ``clinicflow.ledger.jobs.idempotency_purge``."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone

from clinicflow.core.models import TenantModel

KEEP = dt.timedelta(hours=24)


class IdempotencyKey(TenantModel):
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="ledger_idem_org_key_uniq"),
        ]
        indexes = [models.Index(fields=["organization", "created_at"], name="ledger_idem_org_created_idx")]
