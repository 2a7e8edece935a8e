"""A YCLIENTS company linked to an organisation: its webhook secret (stored hashed)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from clinicflow.core.models import Branch, TenantModel


class YclientsLink(TenantModel):
    """The organisation's YCLIENTS webhook: ``/hooks/yclients/<secret>``. The secret is the link's id
    followed by a random token; only its SHA-256 is kept, found by the id and compared in constant time."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", db_index=False)
    company_id = models.CharField(max_length=40, blank=True)
    secret_sha256 = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "branch"], name="yclients_link_org_branch_idx")]
