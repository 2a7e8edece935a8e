"""Acquisition and call tracking: channels, campaigns, ad spend, tracking numbers, web sessions,
leads, telephony integrations, calls and the front desk's work on them.

Field names are a contract with the clinic simulator (it writes these tables in bulk): keep them.
"""

from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import Branch, TenantModel
from clinicflow.patients.models import Patient


def new_public_key() -> str:
    return "pk_" + secrets.token_urlsafe(18)


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ChannelCode(models.TextChoices):
    """The same codes as ``clinicflow.patients.models.Source``."""

    SEARCH_ADS = "search_ads", _("Search ads")
    SOCIAL_ADS = "social_ads", _("Social ads")
    ORGANIC = "organic", _("SEO / organic")
    AGGREGATOR = "aggregator", _("Aggregator / marketplace")
    REFERRAL = "referral", _("Referral")
    OFFLINE = "offline", _("Offline / outdoor")
    DIRECT = "direct", _("Direct")


class ChannelKind(models.TextChoices):
    PAID = "paid", _("Paid")
    FREE = "free", _("Free")
    OFFLINE = "offline", _("Offline")


class Channel(TenantModel):
    code = models.CharField(_("code"), max_length=20, choices=ChannelCode.choices)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=ChannelKind.choices, default=ChannelKind.PAID)

    class Meta:
        verbose_name = _("channel")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="channel_org_code_uniq")]

    def __str__(self) -> str:
        return self.name


class Campaign(TenantModel):
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="campaigns", db_index=False)
    name = models.CharField(_("name"), max_length=200)
    utm_source = models.CharField(_("utm_source"), max_length=100, blank=True)
    utm_medium = models.CharField(_("utm_medium"), max_length=100, blank=True)
    utm_campaign = models.CharField(_("utm_campaign"), max_length=200, blank=True)
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("campaign")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "channel", "name"], name="campaign_org_name_uniq")
        ]
        indexes = [
            models.Index(fields=["organization", "utm_campaign"], name="campaign_org_utm_idx"),
            models.Index(fields=["organization", "branch"], name="campaign_org_branch_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class AdSpend(TenantModel):
    """Spend of one day. ``campaign`` null = spend booked on the channel as a whole."""

    date = models.DateField(_("date"))
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+", db_index=False)
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    spend = models.DecimalField(_("spend"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    impressions = models.PositiveIntegerField(_("impressions"), default=0)
    clicks = models.PositiveIntegerField(_("clicks"), default=0)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ad spend")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "date", "campaign"],
                condition=Q(campaign__isnull=False),
                name="adspend_org_date_campaign_uniq",
            ),
            models.UniqueConstraint(
                fields=["organization", "date", "channel"],
                condition=Q(campaign__isnull=True),
                name="adspend_org_date_channel_uniq",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "channel", "date"], name="adspend_org_channel_idx"),
            models.Index(fields=["organization", "campaign", "date"], name="adspend_org_campaign_idx"),
        ]


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
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="lead_org_created_idx"),
            models.Index(fields=["organization", "channel", "created_at"], name="lead_org_chan_idx"),
            models.Index(fields=["organization", "campaign"], name="lead_org_camp_idx"),
            models.Index(fields=["organization", "phone"], name="lead_org_phone_idx"),
            models.Index(fields=["organization", "patient"], name="lead_org_patient_idx"),
            models.Index(fields=["organization", "session"], name="lead_org_session_idx"),
            models.Index(fields=["organization", "branch"], name="lead_org_branch_idx"),
        ]


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
    administrator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
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
    tagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    tagged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "call", "tag"], name="calltag_org_call_uniq")
        ]
        indexes = [models.Index(fields=["organization", "tag"], name="calltag_org_tag_idx")]


class CallChecklist(TenantModel):
    """The call checklist of a branch (``branch`` null = the organisation's default)."""

    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        indexes = [models.Index(fields=["organization", "branch"], name="checklist_org_branch_idx")]


class CallChecklistItem(TenantModel):
    checklist = models.ForeignKey(
        CallChecklist, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    code = models.SlugField(max_length=40)
    label = models.CharField(_("item"), max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "checklist", "code"], name="checkitem_org_code_uniq"
            )
        ]


class CallScore(TenantModel):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="scores", db_index=False)
    item = models.ForeignKey(CallChecklistItem, on_delete=models.CASCADE, related_name="+", db_index=False)
    passed = models.BooleanField()
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    scored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "call", "item"], name="callscore_org_uniq")
        ]
        indexes = [models.Index(fields=["organization", "item"], name="callscore_org_item_idx")]


class CallbackTask(TenantModel):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="+", db_index=False)
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    phone = models.CharField(max_length=40, blank=True)
    due_at = models.DateTimeField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "call"], name="callback_org_call_uniq")
        ]
        indexes = [
            models.Index(
                fields=["organization", "branch", "done_at", "due_at"], name="callback_org_open_idx"
            ),
            models.Index(fields=["organization", "phone"], name="callback_org_phone_idx"),
            models.Index(fields=["organization", "assigned_to"], name="callback_org_assignee_idx"),
        ]


class ReviewVerdict(models.TextChoices):
    GOOD = "good", _("Good example")
    BAD = "bad", _("Bad example")


class ReviewListEntry(TenantModel):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="+", db_index=False)
    week = models.DateField(_("week (Monday)"))
    verdict = models.CharField(_("verdict"), max_length=4, choices=ReviewVerdict.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["week", "verdict"]
        constraints = [models.UniqueConstraint(fields=["organization", "call"], name="review_org_call_uniq")]
        indexes = [models.Index(fields=["organization", "week"], name="review_org_week_idx")]
