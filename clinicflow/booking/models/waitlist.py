"""The waitlist: patients waiting for a slot, offered one when it frees."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.booking.models.appointments import Appointment
from clinicflow.booking.models.resources import Doctor
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, TenantModel, staff_ref
from clinicflow.patients.models import Patient


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    OFFERED = "offered", _("Offered a slot")
    BOOKED = "booked", _("Booked")
    CLOSED = "closed", _("Closed")


class WaitlistEntry(TenantModel):
    """A patient waiting for a slot of a service (optionally with one doctor, in a date/time window)."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+", db_index=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+", db_index=False)
    doctor = models.ForeignKey(
        Doctor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    date_from = models.DateField(_("from date"))
    date_to = models.DateField(_("until date"))
    time_from = models.TimeField(_("earliest time"), null=True, blank=True)
    time_to = models.TimeField(_("latest time"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    offered_start = models.DateTimeField(null=True, blank=True)
    offered_doctor = models.ForeignKey(
        Doctor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    offered_at = models.DateTimeField(null=True, blank=True)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    notes = models.CharField(_("notes"), max_length=300, blank=True)
    created_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist")
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["organization", "branch", "status", "created_at"], name="waitlist_org_branch_idx"
            ),
            models.Index(fields=["organization", "patient"], name="waitlist_org_patient_idx"),
            models.Index(fields=["organization", "service"], name="waitlist_org_service_idx"),
            models.Index(fields=["organization", "doctor"], name="waitlist_org_doctor_idx"),
            models.Index(fields=["organization", "offered_doctor"], name="waitlist_org_offered_idx"),
            models.Index(fields=["organization", "appointment"], name="waitlist_org_appt_idx"),
            models.Index(fields=["organization", "created_by"], name="waitlist_org_creator_idx"),
        ]
