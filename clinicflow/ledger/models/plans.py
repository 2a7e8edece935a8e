"""What a clinic sells and promises: its points programme and its membership plans.

``PointsProgram`` (one per organisation and currency): points earned per unit of money *paid* (a
rate per service category, a default rate for the rest), what one point is worth when redeemed, and
how long points last. ``MembershipPlan``: the three kinds of seed 002 — ``fee`` (a monthly or yearly
fee with benefits: discounts per service category, included procedures per period, priority
booking), ``stored_value`` (pay ``price``, get ``credit``: the difference is a bonus that may expire
after ``bonus_valid_days``) and ``package`` (a yearly price covering a basket of procedures with
usage limits)."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import TenantModel
from clinicflow.ledger.models.accounts import AMOUNT_DIGITS, AMOUNT_PLACES


class PointsProgram(TenantModel):
    currency = models.CharField(_("currency"), max_length=3)
    default_rate = models.DecimalField(
        _("points per unit of money"), max_digits=9, decimal_places=4, default=Decimal("0.05")
    )
    # {"laser": "0.1", ...}: points per unit of money paid for services of that category
    category_rates = models.JSONField(_("rates per service category"), default=dict, blank=True)
    point_value = models.DecimalField(
        _("money per point"), max_digits=9, decimal_places=4, default=Decimal("1")
    )
    valid_days = models.PositiveIntegerField(_("points last, days"), null=True, blank=True, default=365)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("points programme")
        constraints = [
            models.UniqueConstraint(fields=["organization", "currency"], name="ledger_points_org_cur_uniq"),
        ]


class PlanKind(models.TextChoices):
    FEE = "fee", _("Membership with a fee")
    STORED_VALUE = "stored_value", _("Stored value")
    PACKAGE = "package", _("Prepaid package")


class PlanPeriod(models.TextChoices):
    MONTH = "month", _("Monthly")
    YEAR = "year", _("Yearly")


class MembershipPlan(TenantModel):
    kind = models.CharField(_("kind"), max_length=20, choices=PlanKind.choices)
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3)
    price = models.DecimalField(_("price"), max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES)
    # stored value: what the patient gets for the price (credit - price is the bonus)
    credit = models.DecimalField(
        _("credit"), max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, null=True, blank=True
    )
    bonus_valid_days = models.PositiveIntegerField(_("bonus lasts, days"), null=True, blank=True)
    # fee-based and packages
    period = models.CharField(_("period"), max_length=10, choices=PlanPeriod.choices, blank=True)
    duration_days = models.PositiveIntegerField(_("duration, days"), null=True, blank=True)
    category_discounts = models.JSONField(_("discount per category, %"), default=dict, blank=True)
    included = models.JSONField(_("included procedures per period"), default=dict, blank=True)
    priority_booking = models.BooleanField(_("priority booking"), default=False)
    shareable = models.BooleanField(_("may be shared with family"), default=False)
    freezable_days = models.PositiveIntegerField(_("may be frozen, days"), default=0)
    # on sale from/until; inactive plans are not sold
    available_until = models.DateField(_("on sale until"), null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("membership plan")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "code"], name="ledger_plan_org_code_uniq"),
        ]

    def __str__(self) -> str:
        return self.name
