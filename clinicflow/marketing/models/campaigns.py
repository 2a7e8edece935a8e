"""Campaigns: an offer sent to an audience through the outbox, with variants and a holdout."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, TenantModel
from clinicflow.marketing.models.audiences import Audience
from clinicflow.marketing.models.offers import Offer
from clinicflow.patients.models import Patient


class MarketingSettings(TenantModel):
    weekly_cap = models.PositiveIntegerField(_("marketing messages per patient per week"), default=2)
    batch_size = models.PositiveIntegerField(_("messages per batch"), default=500)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="marketing_settings_org_uniq")]


class CampaignChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENDING = "sending", _("Sending")
    DONE = "done", _("Done")
    STOPPED = "stopped", _("Stopped")


class Campaign(TenantModel):
    name = models.CharField(_("name"), max_length=200)
    audience = models.ForeignKey(Audience, on_delete=models.PROTECT, related_name="+", db_index=False)
    offer = models.ForeignKey(
        Offer, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    channel = models.CharField(_("channel"), max_length=8, choices=CampaignChannel.choices)
    status = models.CharField(_("status"), max_length=10, choices=CampaignStatus.choices, default="draft")
    holdout_percent = models.PositiveIntegerField(_("holdout, %"), default=10)
    # capacity-aware: fill the free hours of this service at this branch over the next days
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    days_ahead = models.PositiveIntegerField(_("days ahead"), default=0)
    free_slots = models.PositiveIntegerField(default=0)  # free starts found when the campaign was queued
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    per_minute = models.PositiveIntegerField(_("messages per minute"), default=200)
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    created_by = models.UUIDField(null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "status"], name="mcampaign_org_status_idx")]

    def __str__(self) -> str:
        return self.name


class Variant(TenantModel):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants", db_index=False)
    key = models.CharField(max_length=8)
    headline = models.CharField(_("headline"), max_length=120)
    text = models.CharField(_("text"), max_length=600)
    weight = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "campaign", "key"], name="variant_uniq")
        ]


class RecipientStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    QUEUED = "queued", _("In the outbox")
    HOLDOUT = "holdout", _("Holdout")
    SKIPPED = "skipped", _("Skipped")


HOLDOUT = "holdout"


class Recipient(TenantModel):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+", db_index=False)
    variant = models.CharField(max_length=8)  # a variant's key, or "holdout"
    status = models.CharField(max_length=8, choices=RecipientStatus.choices, default="pending")
    reason = models.CharField(max_length=40, blank=True)
    message_ref = models.UUIDField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "campaign", "patient"], name="recipient_uniq")
        ]
        indexes = [
            models.Index(fields=["organization", "campaign", "status"], name="recipient_org_status_idx"),
            models.Index(fields=["organization", "patient"], name="recipient_org_patient_idx"),
        ]
