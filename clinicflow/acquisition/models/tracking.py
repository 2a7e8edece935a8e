"""Numbers and website tracking: tracking numbers, the script's settings, web sessions with their
number leases, and web-form leads."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.models.marketing import Campaign, Channel
from clinicflow.core.models import Branch, TenantModel, staff_ref
from clinicflow.patients.models import Patient


def new_public_key() -> str:
    return "pk_" + secrets.token_urlsafe(18)


class NumberPool(models.TextChoices):
    DYNAMIC = "dynamic", _("Dynamic (web sessions)")
    STATIC = "static", _("Static (offline ads)")


class TrackingNumber(TenantModel):
    e164 = models.CharField(_("number"), max_length=20)
    pool = models.CharField(_("pool"), max_length=10, choices=NumberPool.choices)
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tracking number")
        ordering = ["e164"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "e164"], name="trackingnumber_org_uniq")
        ]
        indexes = [
            models.Index(fields=["organization", "pool", "branch"], name="trackingnumber_org_pool_idx"),
            models.Index(fields=["organization", "campaign"], name="trackingnumber_org_camp_idx"),
            models.Index(fields=["organization", "channel"], name="trackingnumber_org_chan_idx"),
        ]

    def __str__(self) -> str:
        return self.e164


class TrackingSettings(TenantModel):
    """Per-organisation settings of the website script and of ROMI."""

    public_key = models.CharField(max_length=40, unique=True, default=new_public_key)
    default_branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    hold_minutes = models.PositiveIntegerField(_("number held after last activity (minutes)"), default=20)
    allowed_origins = models.TextField(
        _("allowed website origins"), blank=True, help_text=_("One per line, e.g. https://clinic.example")
    )
    gross_margin = models.DecimalField(
        _("gross margin share used for ROMI"), max_digits=5, decimal_places=4, default=Decimal("1")
    )
    callback_minutes = models.PositiveIntegerField(
        _("callback deadline for missed calls (minutes)"), default=15
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="trackingsettings_org_uniq")]
        indexes = [
            models.Index(fields=["organization", "default_branch"], name="trackingsettings_org_br_idx")
        ]

    def origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.allowed_origins.splitlines() if o.strip()]


class WebSession(TenantModel):
    client_id = models.CharField(max_length=64)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=200, blank=True)
    utm_content = models.CharField(max_length=200, blank=True)
    utm_term = models.CharField(max_length=200, blank=True)
    referrer = models.CharField(max_length=500, blank=True)
    landing_page = models.CharField(max_length=500, blank=True)
    gclid = models.CharField(max_length=200, blank=True)
    yclid = models.CharField(max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    medium = models.CharField(_("medium"), max_length=100, blank=True)
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    number = models.ForeignKey(
        TrackingNumber, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    held_until = models.DateTimeField(null=True, blank=True)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(
                fields=["organization", "client_id", "last_seen_at"], name="websession_org_client_idx"
            ),
            models.Index(fields=["organization", "started_at"], name="websession_org_started_idx"),
            models.Index(fields=["organization", "channel", "started_at"], name="websession_org_chan_idx"),
            models.Index(fields=["organization", "campaign"], name="websession_org_camp_idx"),
            models.Index(fields=["organization", "number", "held_until"], name="websession_org_number_idx"),
            models.Index(fields=["organization", "patient"], name="websession_org_patient_idx"),
            models.Index(fields=["organization", "branch"], name="websession_org_branch_idx"),
        ]


class NumberLease(TenantModel):
    """A dynamic number held by one web session from ``leased_at`` until ``held_until`` (extended while
    the visitor is active). Answers "which session showed number N at time t"."""

    number = models.ForeignKey(TrackingNumber, on_delete=models.CASCADE, related_name="+", db_index=False)
    session = models.ForeignKey(WebSession, on_delete=models.CASCADE, related_name="leases", db_index=False)
    leased_at = models.DateTimeField()
    held_until = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["organization", "number", "leased_at"], name="lease_org_number_idx"),
            models.Index(fields=["organization", "session"], name="lease_org_session_idx"),
        ]


class LeadMatch(models.TextChoices):
    """A web lead against the patient cards: anyone can type any phone or e-mail into a website
    form, so a lead whose contact matches a patient is only *flagged* for the front desk, who confirm
    (or dismiss) the match after speaking to the person."""

    NONE = "none", _("No matching patient")
    POSSIBLE = "possible", _("Possible match, to confirm")
    CONFIRMED = "confirmed", _("Confirmed by the front desk")
    DISMISSED = "dismissed", _("Not this patient")


class Lead(TenantModel):
    session = models.ForeignKey(
        WebSession, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True, help_text=_("E.164"))
    phone_raw = models.CharField(max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    message = models.TextField(_("message"), blank=True)
    page_url = models.CharField(max_length=500, blank=True)
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    source = models.CharField(max_length=100, blank=True)
    medium = models.CharField(max_length=100, blank=True)
    match = models.CharField(
        _("patient match"), max_length=10, choices=LeadMatch.choices, default=LeadMatch.NONE
    )
    possible_patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    matched_by = staff_ref()
    matched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="lead_org_created_idx"),
            models.Index(fields=["organization", "match", "created_at"], name="lead_org_match_idx"),
            models.Index(fields=["organization", "possible_patient"], name="lead_org_possible_idx"),
            models.Index(fields=["organization", "matched_by"], name="lead_org_matched_by_idx"),
            models.Index(fields=["organization", "channel", "created_at"], name="lead_org_chan_idx"),
            models.Index(fields=["organization", "campaign"], name="lead_org_camp_idx"),
            models.Index(fields=["organization", "phone"], name="lead_org_phone_idx"),
            models.Index(fields=["organization", "patient"], name="lead_org_patient_idx"),
            models.Index(fields=["organization", "session"], name="lead_org_session_idx"),
            models.Index(fields=["organization", "branch"], name="lead_org_branch_idx"),
        ]
