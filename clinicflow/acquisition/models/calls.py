"""Calls as the telephony providers report them, with their attribution and tags."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.models.integrations import Integration, Provider
from clinicflow.acquisition.models.marketing import Campaign, Channel
from clinicflow.acquisition.models.tracking import TrackingNumber, WebSession
from clinicflow.core.models import Branch, TenantModel, staff_ref
from clinicflow.patients.models import Patient


class CallStatus(models.TextChoices):
    RINGING = "ringing", _("Ringing")
    ANSWERED = "answered", _("Answered")
    MISSED = "missed", _("Missed")
    COMPLETED = "completed", _("Completed")


# A call's status never goes backwards: an event of a lower rank only fills empty fields.
STATUS_RANK = {CallStatus.RINGING: 0, CallStatus.ANSWERED: 1, CallStatus.MISSED: 2, CallStatus.COMPLETED: 3}


class AttributionMethod(models.TextChoices):
    SESSION = "session", _("Web session holding the number")
    STATIC = "static", _("Static number")
    PROVIDER = "provider", _("Reported by the provider")
    NONE = "none", _("Direct / unknown")


class Call(TenantModel):
    provider = models.CharField(max_length=20, choices=Provider.choices)
    provider_call_id = models.CharField(max_length=100)
    integration = models.ForeignKey(
        Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    tracking_number = models.ForeignKey(
        TrackingNumber, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    called_number = models.CharField(_("number called"), max_length=40, blank=True)
    caller_e164 = models.CharField(_("caller"), max_length=20, blank=True)
    caller_raw = models.CharField(max_length=40, blank=True)
    started_at = models.DateTimeField(_("started"))
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration = models.PositiveIntegerField(_("duration (s)"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=CallStatus.choices)
    status_rank = models.PositiveSmallIntegerField(default=0)
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    administrator = staff_ref()
    is_unique = models.BooleanField(_("unique"), default=False)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    session = models.ForeignKey(
        WebSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    attribution_method = models.CharField(
        max_length=10, choices=AttributionMethod.choices, default=AttributionMethod.NONE
    )
    source = models.CharField(_("source"), max_length=100, blank=True)
    medium = models.CharField(_("medium"), max_length=100, blank=True)
    utm_campaign = models.CharField(_("campaign (utm)"), max_length=200, blank=True)
    score = models.DecimalField(_("score %"), max_digits=5, decimal_places=1, null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    events = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "provider", "provider_call_id"], name="call_org_provider_id_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "started_at"], name="call_org_started_idx"),
            models.Index(fields=["organization", "branch", "started_at"], name="call_org_branch_idx"),
            models.Index(fields=["organization", "caller_e164", "started_at"], name="call_org_caller_idx"),
            models.Index(fields=["organization", "channel", "started_at"], name="call_org_channel_idx"),
            models.Index(fields=["organization", "campaign"], name="call_org_campaign_idx"),
            models.Index(fields=["organization", "patient"], name="call_org_patient_idx"),
            models.Index(fields=["organization", "administrator", "started_at"], name="call_org_admin_idx"),
            models.Index(fields=["organization", "session"], name="call_org_session_idx"),
            models.Index(fields=["organization", "tracking_number"], name="call_org_number_idx"),
            models.Index(fields=["organization", "integration"], name="call_org_integration_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.provider_call_id}"


class CallTag(models.TextChoices):
    BOOKED = "booked", _("Booked")
    PRICE_ENQUIRY = "price_enquiry", _("Price enquiry")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    COMPLAINT = "complaint", _("Complaint")
    EXISTING_PATIENT = "existing_patient", _("Existing patient")
    SPAM = "spam", _("Spam")
    OTHER = "other", _("Other")


class CallTagging(TenantModel):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="taggings", db_index=False)
    tag = models.CharField(_("tag"), max_length=20, choices=CallTag.choices)
    tagged_by = staff_ref()
    tagged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "call", "tag"], name="calltag_org_call_uniq")
        ]
        indexes = [models.Index(fields=["organization", "tag"], name="calltag_org_tag_idx")]
