"""Payments: money received or refunded, the source of revenue and lifetime value."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.booking.models.appointments import Appointment
from clinicflow.core.models import Branch, TenantModel, staff_ref
from clinicflow.core.money import Money
from clinicflow.patients.models import Patient


class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    TRANSFER = "transfer", _("Bank transfer")
    ONLINE = "online", _("Online")
    MEMBERSHIP = "membership", _("Membership")


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")


class Payment(TenantModel):
    """Money received (or refunded, ``kind=refund``, amount positive) — the source of revenue and CLV."""

    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", db_index=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", db_index=False)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    method = models.CharField(_("method"), max_length=12, choices=PaymentMethod.choices)
    kind = models.CharField(_("kind"), max_length=8, choices=PaymentKind.choices, default=PaymentKind.PAYMENT)
    paid_at = models.DateTimeField(_("paid at"), default=timezone.now)
    recorded_by = staff_ref()
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        ordering = ["paid_at"]
        indexes = [
            # a patient's payments read from the index alone (the owner's facts: revenue per month and cell)
            models.Index(
                fields=["organization", "patient", "paid_at"],
                include=["branch", "currency", "kind", "amount"],
                name="payment_org_patient_cover",
            ),
            models.Index(fields=["organization", "branch", "paid_at"], name="payment_org_branch_idx"),
            models.Index(fields=["organization", "appointment"], name="payment_org_appt_idx"),
            models.Index(fields=["organization", "paid_at"], name="payment_org_paid_idx"),
            models.Index(fields=["organization", "recorded_by"], name="payment_org_recorder_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
        ]

    @property
    def money(self) -> Money:
        """The amount with its currency (positive for a refund too, see ``signed``)."""
        return Money(self.amount, self.currency)

    @property
    def signed(self) -> Money:
        """Money in (a payment) or out (a refund, negative)."""
        return -self.money if self.kind == PaymentKind.REFUND else self.money
