"""Recall lists and the contacts made from them.

A list is a rule (``kind``): its members are computed when it is opened (``selectors.recall``). Each
contact records its outcome; ``booked_at`` is when the patient booked after it (set when the outcome
is "booked", or found later among the patient's new appointments by ``jobs.recall_bookings_link``)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.care.models.tasks import Outcome
from clinicflow.core.models import TenantModel, staff_ref
from clinicflow.patients.models import Patient

__all__ = ["ContactChannel", "RecallContact", "RecallKind", "RecallList"]


class RecallKind(models.TextChoices):
    COURSE_SESSION = "course_session", _("Next course session due")
    MAINTENANCE = "maintenance", _("Maintenance due")
    YEARLY_CHECK = "yearly_check", _("Yearly check due")
    LAPSED = "lapsed", _("Lapsed patients by predicted value")


class ContactChannel(models.TextChoices):
    CALL = "call", _("Call")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class RecallList(TenantModel):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=RecallKind.choices)
    lapsed_days = models.PositiveIntegerField(_("lapsed after, days"), default=180)
    max_p_alive = models.FloatField(_("P(alive) at most"), default=0.7)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("recall list")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "kind"], name="recall_org_kind_uniq")]

    def __str__(self) -> str:
        return self.name


class RecallContact(TenantModel):
    recall_list = models.ForeignKey(RecallList, on_delete=models.CASCADE, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+", db_index=False)
    channel = models.CharField(
        _("channel"), max_length=8, choices=ContactChannel.choices, default=ContactChannel.CALL
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    contacted_at = models.DateTimeField(_("contacted at"), default=timezone.now)
    contacted_by = staff_ref()
    booked_at = models.DateTimeField(_("booked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("recall contact")
        ordering = ["-contacted_at", "id"]
        indexes = [
            models.Index(fields=["organization", "recall_list", "contacted_at"], name="recallc_org_list_idx"),
            models.Index(fields=["organization", "patient", "contacted_at"], name="recallc_org_patient_idx"),
        ]
