"""Booking and capacity: doctors, rooms, equipment, schedules, appointments, payments, the waitlist.

Times of day (working hours, breaks, exceptions) are in the branch's local time; appointment start
and end are aware datetimes stored in UTC. ``busy_until`` = ``end_at`` + the service's buffer: the
doctor and the room are held over ``[start_at, busy_until)``, and on PostgreSQL an exclusion
constraint (migration 0002) makes two live appointments of one doctor or one room over overlapping
intervals impossible.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.catalogue.models import RoomType, Service
from clinicflow.core.models import Branch, TenantModel
from clinicflow.patients.models import Patient


def new_token() -> str:
    return secrets.token_urlsafe(32)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Doctor(TenantModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        verbose_name=_("staff account"),
    )
    full_name = models.CharField(_("full name"), max_length=200)
    specialty = models.CharField(_("specialty"), max_length=200, blank=True)
    is_consultant = models.BooleanField(_("consultant"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    ical_token = models.CharField(max_length=64, default=new_token, editable=False)
    branches = models.ManyToManyField(Branch, through="DoctorBranch", related_name="+")
    services = models.ManyToManyField(Service, through="DoctorService", related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("doctor")
        ordering = ["full_name"]
        indexes = [
            models.Index(fields=["organization", "user"], name="doctor_org_user_idx"),
            models.Index(fields=["organization", "full_name"], name="doctor_org_name_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "ical_token"], name="doctor_org_ical_uniq"),
        ]

    def __str__(self) -> str:
        return self.full_name


class DoctorBranch(TenantModel):
    """A branch the doctor works in."""

    doctor = models.ForeignKey(Doctor, on_delete=models.CASCADE, related_name="+", db_index=False)
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "doctor", "branch"], name="doctorbranch_org_doctor_branch_uniq"
            ),
        ]
        indexes = [models.Index(fields=["organization", "branch"], name="doctorbranch_org_branch_idx")]


class DoctorService(TenantModel):
    """A service the doctor may perform."""

    doctor = models.ForeignKey(Doctor, on_delete=models.CASCADE, related_name="+", db_index=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "doctor", "service"], name="doctorservice_org_doctor_service_uniq"
            ),
        ]
        indexes = [models.Index(fields=["organization", "service"], name="doctorservice_org_service_idx")]


class Room(TenantModel):
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(_("name"), max_length=100)
    room_type = models.CharField(_("room type"), max_length=20, choices=RoomType.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("room")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "branch", "name"], name="room_org_branch_name_uniq"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "branch", "room_type"], name="room_org_branch_type_idx")
        ]

    def __str__(self) -> str:
        return self.name


class Equipment(TenantModel):
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(_("name"), max_length=100)
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["organization", "branch"], name="equipment_org_branch_idx"),
            models.Index(fields=["organization", "room"], name="equipment_org_room_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class WorkingHours(TenantModel):
    """A weekly shift: the doctor works at the branch on this weekday from start to end (local time)."""

    doctor = models.ForeignKey(Doctor, on_delete=models.CASCADE, related_name="+", db_index=False)
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", db_index=False)
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        ordering = ["weekday", "start_time"]
        indexes = [
            models.Index(fields=["organization", "doctor", "weekday"], name="hours_org_doctor_idx"),
            models.Index(fields=["organization", "branch", "weekday"], name="hours_org_branch_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_time__lt=models.F("end_time")), name="hours_start_lt_end"
            ),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="hours_weekday_range"),
        ]


class ScheduleBreak(TenantModel):
    """A weekly break (e.g. lunch) of a doctor at a branch, local time."""

    doctor = models.ForeignKey(Doctor, on_delete=models.CASCADE, related_name="+", db_index=False)
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", db_index=False)
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))

    class Meta:
        verbose_name = _("break")
        ordering = ["weekday", "start_time"]
        indexes = [models.Index(fields=["organization", "doctor", "weekday"], name="break_org_doctor_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_time__lt=models.F("end_time")), name="break_start_lt_end"
            ),
        ]


class ExceptionKind(models.TextChoices):
    CLOSED = "closed", _("Closed")
    OPEN = "open", _("Open with hours")


class ScheduleException(TenantModel):
    """One date that differs from the week's pattern, for a doctor or a room, at a branch.

    ``closed`` without hours: unavailable the whole day; with hours: unavailable during them.
    ``open`` (doctors only): on that date the doctor works at the branch exactly these hours,
    replacing the weekly hours there."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", db_index=False)
    doctor = models.ForeignKey(
        Doctor, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    date = models.DateField(_("date"))
    kind = models.CharField(
        _("kind"), max_length=10, choices=ExceptionKind.choices, default=ExceptionKind.CLOSED
    )
    start_time = models.TimeField(_("from"), null=True, blank=True)
    end_time = models.TimeField(_("until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("schedule exception")
        ordering = ["date", "start_time"]
        indexes = [
            models.Index(fields=["organization", "doctor", "date"], name="exception_org_doctor_idx"),
            models.Index(fields=["organization", "room", "date"], name="exception_org_room_idx"),
            models.Index(fields=["organization", "branch", "date"], name="exception_org_branch_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(doctor__isnull=False) | models.Q(room__isnull=False),
                name="exception_doctor_or_room",
            ),
        ]


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
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    manage_token = models.CharField(max_length=64, default=new_token, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("appointment")
        ordering = ["start_at"]
        indexes = [
            models.Index(fields=["organization", "doctor", "start_at"], name="appt_org_doctor_start_idx"),
            models.Index(fields=["organization", "room", "start_at"], name="appt_org_room_start_idx"),
            models.Index(fields=["organization", "branch", "start_at"], name="appt_org_branch_start_idx"),
            models.Index(fields=["organization", "patient", "start_at"], name="appt_org_patient_start_idx"),
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
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("payment")
        ordering = ["paid_at"]
        indexes = [
            models.Index(fields=["organization", "patient", "paid_at"], name="payment_org_patient_idx"),
            models.Index(fields=["organization", "branch", "paid_at"], name="payment_org_branch_idx"),
            models.Index(fields=["organization", "appointment"], name="payment_org_appt_idx"),
            models.Index(fields=["organization", "paid_at"], name="payment_org_paid_idx"),
            models.Index(fields=["organization", "recorded_by"], name="payment_org_recorder_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
        ]

    @property
    def signed_amount(self):  # type: ignore[no-untyped-def]
        return -self.amount if self.kind == PaymentKind.REFUND else self.amount


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
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
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


def default_reminder_offsets() -> list[int]:
    return [24 * 60, 2 * 60]


def default_reminder_channels() -> list[str]:
    return ["sms", "email"]


class BookingSettings(TenantModel):
    """Per-branch booking rules. A branch without a row uses the defaults below."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", db_index=False)
    reminder_offsets_minutes = models.JSONField(
        _("reminders, minutes before the visit"), default=default_reminder_offsets, blank=True
    )
    reminder_channels = models.JSONField(
        _("reminder channels"), default=default_reminder_channels, blank=True
    )
    online_booking_enabled = models.BooleanField(_("online booking enabled"), default=True)
    online_booking_cutoff_hours = models.PositiveIntegerField(
        _("online booking closes, hours before the visit"), default=2
    )
    online_booking_horizon_days = models.PositiveIntegerField(_("online booking horizon, days"), default=60)
    cancellation_cutoff_hours = models.PositiveIntegerField(
        _("patients may cancel or move until, hours before the visit"), default=24
    )
    slot_step_minutes = models.PositiveIntegerField(_("slot step, minutes"), default=15)

    class Meta:
        verbose_name = _("booking settings")
        verbose_name_plural = _("booking settings")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "branch"], name="bookingsettings_org_branch_uniq"
            ),
        ]


class CodeChannel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class BookingCode(TenantModel):
    """A one-time code that confirms a public booking: 6 digits, stored hashed, expiring, few attempts.

    ``payload`` holds the pending booking (branch, service, doctor, start, the patient's name and contact)."""

    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", db_index=False)
    channel = models.CharField(max_length=8, choices=CodeChannel.choices)
    destination = models.CharField(max_length=254)
    code_hash = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "destination", "created_at"], name="code_org_dest_idx"),
            models.Index(fields=["organization", "ip", "created_at"], name="code_org_ip_idx"),
            models.Index(fields=["organization", "branch"], name="code_org_branch_idx"),
        ]
