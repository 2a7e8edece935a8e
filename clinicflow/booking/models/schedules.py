"""Schedules: weekly hours and breaks, dated exceptions (the branch's local times), per-branch settings."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from clinicflow.booking.models.resources import Doctor, Room
from clinicflow.core.models import Branch, TenantModel


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


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
