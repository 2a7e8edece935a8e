"""Marketing: channels, campaigns and daily ad spend."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import Branch, TenantModel
from clinicflow.core.names import TranslatedName, names_field


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


class Channel(TranslatedName, TenantModel):
    code = models.CharField(_("code"), max_length=20, choices=ChannelCode.choices)
    name = models.CharField(_("name"), max_length=100)
    name_i18n = names_field()
    kind = models.CharField(_("kind"), max_length=10, choices=ChannelKind.choices, default=ChannelKind.PAID)

    class Meta:
        verbose_name = _("channel")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="channel_org_code_uniq")]

    def __str__(self) -> str:
        return self.display_name


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
