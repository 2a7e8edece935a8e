"""Public booking: the one-time codes that confirm a booking made on the public page."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import Branch, TenantModel


class CodeChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class BookingCode(TenantModel):
    """A one-time code that confirms a public booking: 6 digits, stored hashed, expiring, few attempts.

    ``payload`` holds the pending booking (branch, service, doctor, start, the patient's name and contact)."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", db_index=False)
    channel = models.CharField(max_length=8, choices=CodeChannel.choices)
    destination = models.CharField(max_length=254)
    code_hash = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "destination", "created_at"], name="code_org_dest_idx"),
            models.Index(fields=["organization", "ip", "created_at"], name="code_org_ip_idx"),
            models.Index(fields=["organization", "branch"], name="code_org_branch_idx"),
        ]
