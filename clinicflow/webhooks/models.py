"""Outgoing webhooks: an organisation's subscriptions (a URL, the events it wants, its signing
secret) and the deliveries queued for them (one row per event and subscription, with its attempts)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clinicflow.core.fields import EncryptedTextField
from clinicflow.core.models import TenantModel, staff_ref


class Event(models.TextChoices):
    PATIENT_CREATED = "patient.created", _("Patient created")
    PATIENT_UPDATED = "patient.updated", _("Patient changed")
    APPOINTMENT_BOOKED = "appointment.booked", _("Appointment booked")
    APPOINTMENT_MOVED = "appointment.moved", _("Appointment moved")
    APPOINTMENT_CANCELLED = "appointment.cancelled", _("Appointment cancelled")
    APPOINTMENT_DONE = "appointment.done", _("Appointment done")
    PAYMENT_CREATED = "payment.created", _("Payment received")
    CALL_CREATED = "call.created", _("Call received")
    SURVEY_ANSWERED = "survey.answered", _("Survey answered")


class Subscription(TenantModel):
    url = models.CharField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = EncryptedTextField(_("signing secret"), max_length=100, multiline=False)
    is_active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("webhook subscription")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["organization", "is_active"], name="whsub_org_active_idx")]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("delivery status", "Pending")
    DELIVERED = "delivered", pgettext_lazy("delivery status", "Delivered")
    FAILED = "failed", pgettext_lazy("delivery status", "Failed")


class Delivery(TenantModel):
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+", db_index=False)
    event = models.CharField(_("event"), max_length=40, choices=Event.choices)
    event_id = models.UUIDField()
    payload = models.JSONField(default=dict)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "status", "next_attempt_at"], name="whdel_due_idx"),
            models.Index(fields=["organization", "created_at"], name="whdel_org_created_idx"),
            models.Index(fields=["organization", "subscription", "created_at"], name="whdel_org_sub_idx"),
        ]
