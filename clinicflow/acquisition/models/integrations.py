"""Telephony webhook integrations and the deliveries they refused (dead letters)."""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import Branch, TenantModel


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Provider(models.TextChoices):
    GENERIC = "generic", _("Generic JSON")
    CALLRAIL = "callrail", _("CallRail")
    CALLTOUCH = "calltouch", _("Calltouch")


class Integration(TenantModel):
    """A telephony webhook endpoint. The URL secret identifies the organisation; only its SHA-256 is
    stored. ``signing_key`` verifies signed providers (CallRail)."""

    provider = models.CharField(_("provider"), max_length=20, choices=Provider.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    secret_hash = models.CharField(max_length=64, unique=True)
    secret_prefix = models.CharField(max_length=8)
    signing_key = models.CharField(_("signing key"), max_length=200, blank=True)
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "provider"], name="integration_org_provider_idx"),
            models.Index(fields=["organization", "branch"], name="integration_org_branch_idx"),
        ]


class WebhookStatus(models.TextChoices):
    DEAD = "dead", _("Failed (dead letter)")
    REPLAYED = "replayed", _("Replayed")
    DISCARDED = "discarded", _("Discarded")


class WebhookEvent(TenantModel):
    """A webhook delivery that could not be processed: the dead-letter list staff can replay."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+", db_index=False)
    provider = models.CharField(max_length=20, choices=Provider.choices)
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=WebhookStatus.choices, default=WebhookStatus.DEAD)
    http_status = models.PositiveSmallIntegerField(default=400)
    error = models.CharField(max_length=500)
    content_type = models.CharField(max_length=100, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True)
    body_truncated = models.BooleanField(default=False)
    replayed_at = models.DateTimeField(null=True, blank=True)
    replay_error = models.CharField(max_length=500, blank=True)
    call = models.ForeignKey(
        "Call", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(
                fields=["organization", "status", "received_at"], name="webhookevent_org_status_idx"
            ),
            models.Index(fields=["organization", "integration"], name="webhookevent_org_integ_idx"),
            models.Index(fields=["organization", "call"], name="webhookevent_org_call_idx"),
        ]
