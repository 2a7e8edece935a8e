"""Offers and coupons: what a campaign offers and how a redemption at checkout is counted."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.catalogue.models import Product, Service
from clinicflow.core.models import TenantModel
from clinicflow.patients.models import Patient


class OfferKind(models.TextChoices):
    PERCENT = "percent", _("Percentage discount")
    FIXED = "fixed", _("Fixed discount")
    FREE_ADDON = "free_addon", _("Free add-on")
    BUNDLE = "bundle", _("Bundle at a package price")


class PatientKind(models.TextChoices):
    ANY = "any", _("Any patient")
    NEW = "new", _("New patients")
    RETURNING = "returning", _("Returning patients")


class Offer(TenantModel):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=OfferKind.choices)
    percent = models.DecimalField(_("discount, %"), max_digits=5, decimal_places=2, null=True, blank=True)
    amount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    addon_service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid until"))
    branch_ids = models.JSONField(_("branches"), default=list, blank=True)  # empty: every branch
    service_ids = models.JSONField(_("services"), default=list, blank=True)  # empty: every service
    patient_kind = models.CharField(_("for"), max_length=10, choices=PatientKind.choices, default="any")
    per_patient_limit = models.PositiveIntegerField(_("uses per patient"), default=1)
    total_limit = models.PositiveIntegerField(_("uses in all"), null=True, blank=True)
    redeemed = models.PositiveIntegerField(_("redeemed"), default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("offer")
        ordering = ["-valid_from", "name"]
        indexes = [models.Index(fields=["organization", "valid_from"], name="offer_org_from_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_from__lte=models.F("valid_to")), name="offer_dates"
            ),
            models.CheckConstraint(
                condition=models.Q(percent__isnull=True) | models.Q(percent__gt=0, percent__lte=100),
                name="offer_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Coupon(TenantModel):
    """A code for an offer: single-use (generated in batches) or shared (up to the offer's limits)."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="coupons", db_index=False)
    code = models.CharField(_("code"), max_length=32)
    single_use = models.BooleanField(default=True)
    used = models.PositiveIntegerField(default=0)
    batch = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="coupon_org_code_uniq")]
        indexes = [models.Index(fields=["organization", "offer"], name="coupon_org_offer_idx")]


class Redemption(TenantModel):
    """One counted use of an offer (with its coupon) by a patient: append-only."""

    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="+", db_index=False)
    coupon = models.ForeignKey(Coupon, null=True, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", db_index=False)
    service = models.ForeignKey(
        Service, null=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    branch_id_ref = models.UUIDField(null=True)
    appointment_ref = models.UUIDField(null=True)  # the checkout's appointment, if any
    price = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at"]
        indexes = [
            models.Index(fields=["organization", "offer", "patient"], name="redemption_org_offer_pat_idx"),
            models.Index(fields=["organization", "at"], name="redemption_org_at_idx"),
        ]
