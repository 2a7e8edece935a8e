"""The marketing calendar: events and promotions by branch and product line."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.catalogue.models import ProductLine
from clinicflow.core.models import Branch, TenantModel
from clinicflow.marketing.models.audiences import Audience
from clinicflow.marketing.models.offers import Offer


class EventKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday")
    SEASON = "season", _("Season")
    LAUNCH = "launch", _("Product launch")
    CLINIC = "clinic", _("Clinic event")
    AWARENESS = "awareness", _("Awareness day")
    PROMOTION = "promotion", _("Promotion")


class EventStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    CONFIRMED = "confirmed", _("Confirmed")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class CalendarEvent(TenantModel):
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=EventKind.choices)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    line = models.ForeignKey(
        ProductLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    owner = models.CharField(_("owner"), max_length=200, blank=True)
    budget = models.DecimalField(_("budget"), max_digits=12, decimal_places=2, default=0)
    actual_cost = models.DecimalField(_("actual cost"), max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3)
    channel = models.CharField(_("channel"), max_length=40, blank=True)
    audience = models.ForeignKey(
        Audience, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    offer = models.ForeignKey(
        Offer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    status = models.CharField(_("status"), max_length=10, choices=EventStatus.choices, default="planned")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_on", "title"]
        indexes = [models.Index(fields=["organization", "starts_on"], name="calevent_org_start_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_on__lte=models.F("ends_on")), name="calevent_dates"
            )
        ]
