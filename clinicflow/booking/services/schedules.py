"""Writes of schedules: a doctor's working week, dated exceptions, a branch's booking settings."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction

from clinicflow.accounts.models import User
from clinicflow.booking.models import (
    BookingSettings,
    Doctor,
    DoctorBranch,
    ExceptionKind,
    Room,
    ScheduleBreak,
    ScheduleException,
    WorkingHours,
)
from clinicflow.booking.services.checks import clean_text, same_org
from clinicflow.booking.services.notify import CHANNELS
from clinicflow.core.audit import audit_record, audited_save
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization

Ranges = Sequence[tuple[dt.time, dt.time]]
SETTINGS_FIELDS = [
    "reminder_offsets_minutes",
    "reminder_channels",
    "online_booking_enabled",
    "online_booking_cutoff_hours",
    "online_booking_horizon_days",
    "cancellation_cutoff_hours",
    "slot_step_minutes",
]


def _check_ranges(ranges: Ranges, name: str) -> list[tuple[dt.time, dt.time]]:
    out = []
    for start, end in ranges:
        if not start < end:
            raise ValidationFailed.field(name, f"{start:%H:%M}–{end:%H:%M}: the start must be before the end")
        out.append((start, end))
    out.sort()
    for (_a, b), (c, _d) in itertools.pairwise(out):
        if c < b:
            raise ValidationFailed.field(name, "time ranges overlap")
    return out


def _check_week(
    org: Organization,
    doctor: Doctor,
    branch: Branch,
    hours: Mapping[int, Ranges],
    breaks: Mapping[int, Ranges],
) -> None:
    for wd in list(hours) + list(breaks):
        if wd not in range(7):
            raise ValidationFailed.field("weekday", "must be 0 (Monday) to 6 (Sunday)")
    # Other branches' hours must not overlap these on the same weekday (one doctor, one place).
    other = WorkingHours.objects.for_org(org).filter(doctor=doctor).exclude(branch=branch)
    for wd, ranges in hours.items():
        for start, end in _check_ranges(ranges, "hours"):
            if other.filter(weekday=wd, start_time__lt=end, end_time__gt=start).exists():
                raise ValidationFailed.field("hours", "overlaps the doctor's hours at another branch")
    for ranges in breaks.values():
        _check_ranges(ranges, "breaks")


@transaction.atomic
def working_week_set(
    *,
    org: Organization,
    actor: User | None,
    doctor: Doctor,
    branch: Branch,
    hours: Mapping[int, Ranges],
    breaks: Mapping[int, Ranges] | None = None,
) -> None:
    """Replace the doctor's weekly hours (and breaks) at the branch. Weekday 0 = Monday."""
    same_org(org, doctor=doctor, branch=branch)
    _check_week(org, doctor, branch, hours, breaks or {})
    if not DoctorBranch.objects.for_org(org).filter(doctor=doctor, branch=branch).exists():
        DoctorBranch.objects.create(organization=org, doctor=doctor, branch=branch)
    WorkingHours.objects.for_org(org).filter(doctor=doctor, branch=branch).delete()
    WorkingHours.objects.bulk_create(
        WorkingHours(organization=org, doctor=doctor, branch=branch, weekday=wd, start_time=s, end_time=e)
        for wd, ranges in hours.items()
        for s, e in ranges
    )
    if breaks is not None:
        ScheduleBreak.objects.for_org(org).filter(doctor=doctor, branch=branch).delete()
        ScheduleBreak.objects.bulk_create(
            ScheduleBreak(
                organization=org, doctor=doctor, branch=branch, weekday=wd, start_time=s, end_time=e
            )
            for wd, ranges in breaks.items()
            for s, e in ranges
        )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="doctor",
        object_id=doctor.pk,
        fields=["hours"],
    )


@dataclass(frozen=True)
class ExceptionData:
    """One dated exception: ``closed`` (all day, or during the hours) or ``open`` with its hours."""

    date: dt.date
    kind: str = ExceptionKind.CLOSED
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    reason: str = ""


def _check_exception(branch: Branch, doctor: Doctor | None, room: Room | None, data: ExceptionData) -> None:
    if (doctor is None) == (room is None):
        raise ValidationFailed.field("doctor", "give a doctor or a room")
    if data.kind not in ExceptionKind.values:
        raise ValidationFailed.field("kind", f"must be one of {', '.join(ExceptionKind.values)}")
    if room is not None and data.kind == ExceptionKind.OPEN:
        raise ValidationFailed.field("kind", "rooms can only be closed")
    if room is not None and room.branch_id != branch.pk:
        raise ValidationFailed.field("room", "the room is in another branch")
    start, end = data.start_time, data.end_time
    if (start is None) != (end is None):
        raise ValidationFailed.field("end_time", "give both times or neither")
    if start is not None and end is not None and not start < end:
        raise ValidationFailed.field("end_time", "must be after the start")
    if data.kind == ExceptionKind.OPEN and start is None:
        raise ValidationFailed.field("start_time", "an open day needs its hours")


@transaction.atomic
def exception_add(
    *,
    org: Organization,
    actor: User | None,
    branch: Branch,
    date: dt.date,
    kind: str = ExceptionKind.CLOSED,
    doctor: Doctor | None = None,
    room: Room | None = None,
    start_time: dt.time | None = None,
    end_time: dt.time | None = None,
    reason: str = "",
) -> ScheduleException:
    same_org(org, branch=branch, doctor=doctor, room=room)
    data = ExceptionData(date=date, kind=kind, start_time=start_time, end_time=end_time, reason=reason)
    _check_exception(branch, doctor, room, data)
    exc: ScheduleException = ScheduleException.objects.create(
        organization=org,
        branch=branch,
        doctor=doctor,
        room=room,
        date=date,
        kind=kind,
        start_time=start_time,
        end_time=end_time,
        reason=clean_text(reason, "reason", 200, required=False),
    )
    audit_record(
        org=org, actor=actor, action=AuditAction.CREATE, object_type="schedule_exception", object_id=exc.pk
    )
    return exc


@transaction.atomic
def exception_delete(*, org: Organization, actor: User | None, exception: ScheduleException) -> None:
    same_org(org, exception=exception)
    pk = exception.pk
    exception.delete()
    audit_record(
        org=org, actor=actor, action=AuditAction.DELETE, object_type="schedule_exception", object_id=pk
    )


def _check_settings(
    offsets: list[int],
    channels: Sequence[str],
    cutoffs: tuple[int, int],
    horizon_days: int,
    step_minutes: int,
) -> None:
    if any(o <= 0 or o > 14 * 24 * 60 for o in offsets) or len(offsets) > 5:
        raise ValidationFailed.field("reminder_offsets_minutes", "up to 5 offsets, each 1 minute to 14 days")
    if any(c not in CHANNELS for c in channels):
        raise ValidationFailed.field("reminder_channels", "must be sms and/or email")
    if step_minutes not in (5, 10, 15, 20, 30, 60):
        raise ValidationFailed.field("slot_step_minutes", "must be 5, 10, 15, 20, 30 or 60")
    if not 1 <= horizon_days <= 365:
        raise ValidationFailed.field("online_booking_horizon_days", "must be 1..365")
    if max(cutoffs) > 24 * 30:
        raise ValidationFailed.field("cancellation_cutoff_hours", "at most 30 days")


@transaction.atomic
def settings_save(
    *,
    org: Organization,
    actor: User | None,
    branch: Branch,
    reminder_offsets_minutes: Sequence[int],
    reminder_channels: Sequence[str] = CHANNELS,
    online_booking_enabled: bool = True,
    online_booking_cutoff_hours: int = 2,
    online_booking_horizon_days: int = 60,
    cancellation_cutoff_hours: int = 24,
    slot_step_minutes: int = 15,
) -> BookingSettings:
    same_org(org, branch=branch)
    offsets = sorted({int(o) for o in reminder_offsets_minutes}, reverse=True)
    cutoffs = (online_booking_cutoff_hours, cancellation_cutoff_hours)
    _check_settings(offsets, reminder_channels, cutoffs, online_booking_horizon_days, slot_step_minutes)
    row, _ = BookingSettings.objects.for_org(org).get_or_create(organization=org, branch=branch)
    row.reminder_offsets_minutes = offsets
    row.reminder_channels = sorted(set(reminder_channels))
    row.online_booking_enabled = online_booking_enabled
    row.online_booking_cutoff_hours = online_booking_cutoff_hours
    row.online_booking_horizon_days = online_booking_horizon_days
    row.cancellation_cutoff_hours = cancellation_cutoff_hours
    row.slot_step_minutes = slot_step_minutes
    audited_save(row, org=org, actor=actor, fields=SETTINGS_FIELDS, object_type="booking_settings")
    settings: BookingSettings = row
    return settings
