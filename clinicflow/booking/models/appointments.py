"""Appointments: statuses, sources and the appointment row.

``[start_at, busy_until)`` holds the doctor and the room."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.booking.models.resources import Doctor, Room
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, TenantModel, staff_ref
from clinicflow.patients.models import Patient


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CONFIRMED = "confirmed", _("Confirmed")
    ARRIVED = "arrived", _("Arrived")
    DONE = "done", _("Done")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")


# Statuses that hold the doctor and the room: the service's overlap checks and free slots count these.
HOLDING_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.ARRIVED,
    AppointmentStatus.DONE,
)
# The open ones among them: PostgreSQL's exclusion constraints (booking migration 0003) refuse
# overlaps between these. A done visit is history and no longer in the constraint — a new booking
# must start in the future, and the service's check still counts it (HOLDING_STATUSES).
OPEN_STATUSES = (
    AppointmentStatus.BOOKED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.ARRIVED,
)


class AppointmentSource(models.TextChoices):
    STAFF = "staff", _("Front desk")
    API = "api", _("API")
    ONLINE = "online", _("Online booking")
    SIMULATOR = "simulator", _("Simulator")


class Appointment(TenantModel):
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", db_index=False)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", db_index=False)
    doctor = models.ForeignKey(Doctor, on_delete=models.PROTECT, related_name="+", db_index=False)
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    start_at = models.DateTimeField(_("start"))
    end_at = models.DateTimeField(_("end"))
    busy_until = models.DateTimeField(_("busy until (end + buffer)"))
    status = models.CharField(
        _("status"), max_length=12, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    cancel_reason = models.CharField(_("cancellation reason"), max_length=300, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    is_late_cancellation = models.BooleanField(_("late cancellation"), default=False)
    arrived_at = models.DateTimeField(null=True, blank=True)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    is_first_visit = models.BooleanField(_("first visit"), default=False)
    source = models.CharField(
        _("source"), max_length=12, choices=AppointmentSource.choices, default=AppointmentSource.STAFF
    )
    booked_by = staff_ref()
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    # the patient's manage link is signed over (id, version); issuing a new link bumps the version and
    # every older link stops working (``clinicflow.booking.links``): no readable secret is stored
    manage_version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("appointment")
        ordering = ["start_at"]
        indexes = [
            models.Index(fields=["organization", "doctor", "start_at"], name="appt_org_doctor_start_idx"),
            models.Index(fields=["organization", "room", "start_at"], name="appt_org_room_start_idx"),
            models.Index(fields=["organization", "branch", "start_at"], name="appt_org_branch_start_idx"),
            # a patient's history read from the index alone (the owner's facts of a day's patients: their
            # first visits, cohorts and channel credit read these columns of every visit they had)
            models.Index(
                fields=["organization", "patient", "start_at"],
                include=["status", "branch", "doctor", "is_first_visit"],
                name="appt_org_patient_cover",
            ),
            models.Index(fields=["organization", "service", "start_at"], name="appt_org_service_start_idx"),
            models.Index(fields=["organization", "booked_by"], name="appt_org_booked_by_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_at__lt=models.F("end_at")), name="appt_start_lt_end"
            ),
            models.CheckConstraint(
                condition=models.Q(end_at__lte=models.F("busy_until")), name="appt_end_lte_busy"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start_at:%Y-%m-%d %H:%M} {self.service_id}"

    @property
    def is_live(self) -> bool:
        return self.status in HOLDING_STATUSES
