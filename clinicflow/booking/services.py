"""Writes of booking: resources and schedules, appointments (book, move, cancel, mark), payments,
the waitlist. Each is atomic; appointment changes write their messages to the outbox in the same
transaction (``clinicflow.messaging.services.message_enqueue``).

Double booking is prevented twice: the service locks the candidate rooms' rows (``SELECT ... FOR
UPDATE``; on SQLite the IMMEDIATE transaction serialises writers) and checks the doctor and the room
against every appointment that holds them (``HOLDING_STATUSES``, done visits included); on
PostgreSQL the exclusion constraints (booking migrations 0002/0003) refuse overlaps between open
appointments (``OPEN_STATUSES``: booked, confirmed, arrived) whatever slips through — two concurrent
bookings — and their ``IntegrityError`` becomes ``Conflict`` (409).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings as dj_settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from clinicflow.booking import availability as av
from clinicflow.booking import selectors
from clinicflow.booking.ics import appointment_ics
from clinicflow.booking.models import (
    HOLDING_STATUSES,
    Appointment,
    AppointmentSource,
    AppointmentStatus,
    BookingSettings,
    Doctor,
    DoctorBranch,
    DoctorService,
    Equipment,
    ExceptionKind,
    Payment,
    PaymentKind,
    PaymentMethod,
    Room,
    ScheduleBreak,
    ScheduleException,
    WaitlistEntry,
    WaitlistStatus,
    WorkingHours,
)
from clinicflow.catalogue.models import RoomType, Service, ServicePrice
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, NotFound, ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.money import MINOR_UNITS, MoneyError, quantize, to_decimal
from clinicflow.patients.models import Patient

if TYPE_CHECKING:
    from django.http import HttpRequest

    from clinicflow.accounts.models import User
    from clinicflow.messaging.services import EnqueueItem

CHANNELS = ("sms", "email")


def _same_org(org: Organization, **objs: Any) -> None:
    for name, obj in objs.items():
        if obj is not None and obj.organization_id != org.id:
            raise ValidationFailed.field(name, f"unknown {name}")


def public_base_url() -> str:
    """Absolute prefix for links in messages (``CLINICFLOW["PUBLIC_URL"]`` or ``CLINICFLOW_PUBLIC_URL``)."""
    base = (
        dj_settings.CLINICFLOW.get("PUBLIC_URL")
        or os.environ.get("CLINICFLOW_PUBLIC_URL")
        or "http://localhost:8000"
    )
    return str(base).rstrip("/")


def manage_path(appt: Appointment) -> str:
    return f"/book/manage/{appt.pk}/{appt.manage_token}/"


# --- resources -------------------------------------------------------------------------------------


def _text(value: str, name: str, max_len: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed.field(name, "is required")
    if len(value) > max_len:
        raise ValidationFailed.field(name, f"at most {max_len} characters")
    return value


@transaction.atomic
def doctor_create(
    *,
    org: Organization,
    actor: User | None,
    full_name: str,
    specialty: str = "",
    user: User | None = None,
    is_consultant: bool = False,
    branches: Iterable[Branch] = (),
    services: Iterable[Service] = (),
) -> Doctor:
    _same_org(org, user=user)
    doctor = Doctor.objects.create(
        organization=org,
        full_name=_text(full_name, "full_name", 200),
        specialty=_text(specialty, "specialty", 200, required=False),
        user=user,
        is_consultant=is_consultant,
    )
    doctor_set_links(org=org, actor=actor, doctor=doctor, branches=branches, services=services)
    audit_record(org=org, actor=actor, action=AuditAction.CREATE, object_type="doctor", object_id=doctor.pk)
    return doctor


@transaction.atomic
def doctor_update(
    *,
    org: Organization,
    actor: User | None,
    doctor: Doctor,
    full_name: str,
    specialty: str = "",
    is_consultant: bool = False,
    is_active: bool = True,
    user: User | None = None,
) -> Doctor:
    _same_org(org, doctor=doctor, user=user)
    doctor.full_name = _text(full_name, "full_name", 200)
    doctor.specialty = _text(specialty, "specialty", 200, required=False)
    doctor.is_consultant = is_consultant
    doctor.is_active = is_active
    doctor.user = user
    doctor.save()
    audit_record(org=org, actor=actor, action=AuditAction.UPDATE, object_type="doctor", object_id=doctor.pk)
    return doctor


@transaction.atomic
def doctor_set_links(
    *,
    org: Organization,
    actor: User | None,
    doctor: Doctor,
    branches: Iterable[Branch] | None = None,
    services: Iterable[Service] | None = None,
) -> None:
    """Replace the branches the doctor works in and/or the services they may perform."""
    _same_org(org, doctor=doctor)
    if branches is not None:
        branch_list = list(branches)
        for b in branch_list:
            _same_org(org, branch=b)
        DoctorBranch.objects.for_org(org).filter(doctor=doctor).exclude(branch__in=branch_list).delete()
        have = set(
            DoctorBranch.objects.for_org(org).filter(doctor=doctor).values_list("branch_id", flat=True)
        )
        DoctorBranch.objects.bulk_create(
            DoctorBranch(organization=org, doctor=doctor, branch=b) for b in branch_list if b.pk not in have
        )
    if services is not None:
        service_list = list(services)
        for s in service_list:
            _same_org(org, service=s)
        DoctorService.objects.for_org(org).filter(doctor=doctor).exclude(service__in=service_list).delete()
        have = set(
            DoctorService.objects.for_org(org).filter(doctor=doctor).values_list("service_id", flat=True)
        )
        DoctorService.objects.bulk_create(
            DoctorService(organization=org, doctor=doctor, service=s)
            for s in service_list
            if s.pk not in have
        )


@transaction.atomic
def doctor_rotate_ical_token(*, org: Organization, actor: User | None, doctor: Doctor) -> Doctor:
    from clinicflow.booking.models import new_token

    _same_org(org, doctor=doctor)
    doctor.ical_token = new_token()
    doctor.save(update_fields=["ical_token"])
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="doctor",
        object_id=doctor.pk,
        fields=["ical_token"],
    )
    return doctor


@transaction.atomic
def room_create(*, org: Organization, actor: User | None, branch: Branch, name: str, room_type: str) -> Room:
    _same_org(org, branch=branch)
    if room_type not in RoomType.values:
        raise ValidationFailed.field("room_type", f"must be one of {', '.join(RoomType.values)}")
    name = _text(name, "name", 100)
    if Room.objects.for_org(org).filter(branch=branch, name=name).exists():
        raise Conflict(f"room {name!r} already exists", fields={"name": ["already exists"]})
    room = Room.objects.create(organization=org, branch=branch, name=name, room_type=room_type)
    audit_record(org=org, actor=actor, action=AuditAction.CREATE, object_type="room", object_id=room.pk)
    return room


@transaction.atomic
def room_update(
    *, org: Organization, actor: User | None, room: Room, name: str, room_type: str, is_active: bool
) -> Room:
    _same_org(org, room=room)
    if room_type not in RoomType.values:
        raise ValidationFailed.field("room_type", f"must be one of {', '.join(RoomType.values)}")
    room.name = _text(name, "name", 100)
    room.room_type = room_type
    room.is_active = is_active
    room.save()
    audit_record(org=org, actor=actor, action=AuditAction.UPDATE, object_type="room", object_id=room.pk)
    return room


@transaction.atomic
def equipment_create(
    *, org: Organization, actor: User | None, branch: Branch, name: str, room: Room | None = None
) -> Equipment:
    _same_org(org, branch=branch, room=room)
    if room is not None and room.branch_id != branch.pk:
        raise ValidationFailed.field("room", "the room is in another branch")
    item = Equipment.objects.create(organization=org, branch=branch, name=_text(name, "name", 100), room=room)
    audit_record(org=org, actor=actor, action=AuditAction.CREATE, object_type="equipment", object_id=item.pk)
    return item


def _check_ranges(ranges: Sequence[tuple[dt.time, dt.time]], name: str) -> list[tuple[dt.time, dt.time]]:
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


@transaction.atomic
def working_week_set(
    *,
    org: Organization,
    actor: User | None,
    doctor: Doctor,
    branch: Branch,
    hours: Mapping[int, Sequence[tuple[dt.time, dt.time]]],
    breaks: Mapping[int, Sequence[tuple[dt.time, dt.time]]] | None = None,
) -> None:
    """Replace the doctor's weekly hours (and breaks) at the branch. Weekday 0 = Monday."""
    _same_org(org, doctor=doctor, branch=branch)
    for wd in list(hours) + list(breaks or {}):
        if wd not in range(7):
            raise ValidationFailed.field("weekday", "must be 0 (Monday) to 6 (Sunday)")
    # Other branches' hours must not overlap these on the same weekday (one doctor, one place).
    other = WorkingHours.objects.for_org(org).filter(doctor=doctor).exclude(branch=branch)
    for wd, ranges in hours.items():
        clean = _check_ranges(ranges, "hours")
        for start, end in clean:
            if other.filter(weekday=wd, start_time__lt=end, end_time__gt=start).exists():
                raise ValidationFailed.field("hours", "overlaps the doctor's hours at another branch")
    for ranges in (breaks or {}).values():
        _check_ranges(ranges, "breaks")
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
    _same_org(org, branch=branch, doctor=doctor, room=room)
    if (doctor is None) == (room is None):
        raise ValidationFailed.field("doctor", "give a doctor or a room")
    if kind not in ExceptionKind.values:
        raise ValidationFailed.field("kind", f"must be one of {', '.join(ExceptionKind.values)}")
    if room is not None and kind == ExceptionKind.OPEN:
        raise ValidationFailed.field("kind", "rooms can only be closed")
    if room is not None and room.branch_id != branch.pk:
        raise ValidationFailed.field("room", "the room is in another branch")
    if (start_time is None) != (end_time is None):
        raise ValidationFailed.field("end_time", "give both times or neither")
    if start_time is not None and end_time is not None and not start_time < end_time:
        raise ValidationFailed.field("end_time", "must be after the start")
    if kind == ExceptionKind.OPEN and start_time is None:
        raise ValidationFailed.field("start_time", "an open day needs its hours")
    exc = ScheduleException.objects.create(
        organization=org,
        branch=branch,
        doctor=doctor,
        room=room,
        date=date,
        kind=kind,
        start_time=start_time,
        end_time=end_time,
        reason=_text(reason, "reason", 200, required=False),
    )
    audit_record(
        org=org, actor=actor, action=AuditAction.CREATE, object_type="schedule_exception", object_id=exc.pk
    )
    return exc


@transaction.atomic
def exception_delete(*, org: Organization, actor: User | None, exception: ScheduleException) -> None:
    _same_org(org, exception=exception)
    pk = exception.pk
    exception.delete()
    audit_record(
        org=org, actor=actor, action=AuditAction.DELETE, object_type="schedule_exception", object_id=pk
    )


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
    _same_org(org, branch=branch)
    offsets = sorted({int(o) for o in reminder_offsets_minutes}, reverse=True)
    if any(o <= 0 or o > 14 * 24 * 60 for o in offsets) or len(offsets) > 5:
        raise ValidationFailed.field("reminder_offsets_minutes", "up to 5 offsets, each 1 minute to 14 days")
    if any(c not in CHANNELS for c in reminder_channels):
        raise ValidationFailed.field("reminder_channels", "must be sms and/or email")
    if slot_step_minutes not in (5, 10, 15, 20, 30, 60):
        raise ValidationFailed.field("slot_step_minutes", "must be 5, 10, 15, 20, 30 or 60")
    if not 1 <= online_booking_horizon_days <= 365:
        raise ValidationFailed.field("online_booking_horizon_days", "must be 1..365")
    if online_booking_cutoff_hours > 24 * 30 or cancellation_cutoff_hours > 24 * 30:
        raise ValidationFailed.field("cancellation_cutoff_hours", "at most 30 days")
    row, _ = BookingSettings.objects.for_org(org).get_or_create(organization=org, branch=branch)
    row.reminder_offsets_minutes = offsets
    row.reminder_channels = sorted(set(reminder_channels))
    row.online_booking_enabled = online_booking_enabled
    row.online_booking_cutoff_hours = online_booking_cutoff_hours
    row.online_booking_horizon_days = online_booking_horizon_days
    row.cancellation_cutoff_hours = cancellation_cutoff_hours
    row.slot_step_minutes = slot_step_minutes
    row.save()
    audit_record(
        org=org, actor=actor, action=AuditAction.UPDATE, object_type="booking_settings", object_id=row.pk
    )
    return row


# --- appointments ----------------------------------------------------------------------------------


def price_for(*, org: Organization, service: Service, branch: Branch, day: dt.date) -> tuple[Decimal, str]:
    """The service's price on the day: the latest price-history row (branch first), else the list price."""
    row = (
        ServicePrice.objects.for_org(org)
        .filter(service=service, valid_from__lte=day)
        .filter(Q(branch=branch) | Q(branch__isnull=True))
        .order_by("-valid_from", "branch_id")
        .values_list("price", "currency", "branch_id")
        .first()
    )
    if row is not None:
        return row[0], row[1]
    return service.price, service.currency


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ValidationFailed.field(name, "must be a date and time")
    if timezone.is_naive(value):
        raise ValidationFailed.field(name, "must include a time zone offset")
    return value.astimezone(dt.UTC)


def schedule_problem(
    *, org: Organization, branch: Branch, doctor: Doctor, start: dt.datetime, end: dt.datetime
) -> str | None:
    """Why the doctor cannot work ``[start, end)`` at the branch, or None when the schedule allows it."""
    tz = branch.tz
    d0 = start.astimezone(tz).date() - dt.timedelta(days=1)
    d1 = end.astimezone(tz).date()
    schedule = selectors.schedules_load(
        org=org, branch=branch, doctor_ids=[doctor.pk], date_from=d0, date_to=d1
    )[doctor.pk]
    windows = av.working_windows(schedule, d0, d1)
    if av.contains(windows, start, end):
        return None
    bare = av.Schedule(tz=tz, hours=schedule.hours)
    opened = {
        day: [e for e in excs if e.kind == ExceptionKind.OPEN] for day, excs in schedule.exceptions.items()
    }
    bare.exceptions = {day: excs for day, excs in opened.items() if excs}
    if not av.contains(av.working_windows(bare, d0, d1), start, end):
        return "is outside the doctor's working hours at this branch"
    with_breaks = av.Schedule(tz=tz, hours=schedule.hours, breaks=schedule.breaks, exceptions=bare.exceptions)
    if not av.contains(av.working_windows(with_breaks, d0, d1), start, end):
        return "falls in the doctor's break"
    reasons = [
        e.reason
        for excs in schedule.exceptions.values()
        for e in excs
        if e.kind == ExceptionKind.CLOSED and e.reason
    ]
    return "the doctor is not available then" + (f" ({reasons[0]})" if reasons else "")


def _check_booking_rules(
    *,
    org: Organization,
    branch: Branch,
    service: Service,
    doctor: Doctor,
    start: dt.datetime,
    end: dt.datetime,
) -> None:
    if not branch.is_active:
        raise ValidationFailed.field("branch", "the branch is closed")
    if not service.is_active:
        raise ValidationFailed.field("service", "the service is not offered")
    if not doctor.is_active:
        raise ValidationFailed.field("doctor", "the doctor is not active")
    # both links in one query
    performs, works = (
        Doctor.objects.for_org(org)
        .filter(pk=doctor.pk)
        .annotate(
            performs=Exists(
                DoctorService.objects.for_org(org).filter(doctor_id=OuterRef("pk"), service=service)
            ),
            works=Exists(DoctorBranch.objects.for_org(org).filter(doctor_id=OuterRef("pk"), branch=branch)),
        )
        .values_list("performs", "works")
        .first()
    ) or (False, False)
    if not performs:
        raise ValidationFailed.field("service", f"{doctor.full_name} does not perform {service.name}")
    if not works:
        raise ValidationFailed.field("doctor", f"{doctor.full_name} does not work at {branch.name}")
    if start < timezone.now():
        raise ValidationFailed.field("start", "is in the past")
    problem = schedule_problem(org=org, branch=branch, doctor=doctor, start=start, end=end)
    if problem:
        raise ValidationFailed.field("start", problem)


def _lock_and_check(
    *,
    org: Organization,
    branch: Branch,
    service: Service,
    doctor: Doctor,
    start: dt.datetime,
    busy_until: dt.datetime,
    room: Room | None,
    exclude_id: uuid.UUID | None = None,
) -> Room:
    """Check the doctor is free, then pick and lock a free room (see ``_lock_free_room``).

    The doctor is not locked: two bookings of one doctor at overlapping times are refused by the
    database itself — on PostgreSQL the ``appt_no_doctor_overlap`` exclusion constraint makes the second
    INSERT wait for the first transaction and then fail (``_save_appointment`` turns that into a
    Conflict); SQLite's IMMEDIATE transactions run one writer at a time. A doctor lock would also
    serialise that doctor's bookings at other times of the day, which under load cost more than it
    saved. The doctor's and the rooms' appointments are read in one query."""
    if room is not None:
        if room.branch_id != branch.pk:
            raise ValidationFailed.field("room", "the room is in another branch")
        if room.room_type != service.room_type:
            raise ValidationFailed.field("room", f"the service needs a {RoomType(service.room_type).label}")
        if not room.is_active:
            raise ValidationFailed.field("room", "the room is out of use")
        rooms = {room.pk: room}
    else:
        rooms = {
            r.pk: r
            for r in Room.objects.for_org(org).filter(
                branch=branch, room_type=service.room_type, is_active=True
            )
        }
    candidates = list(rooms)
    if room is None and not candidates:
        raise ValidationFailed.field(
            "room", f"{branch.name} has no {RoomType(service.room_type).label.lower()}"
        )
    tz = branch.tz
    day0, day1 = start.astimezone(tz).date(), busy_until.astimezone(tz).date()
    closed = selectors.room_closures(
        org=org, branch=branch, room_ids=candidates, date_from=day0, date_to=day1
    )
    doctor_taken, room_taken = selectors.taken_by_doctor_and_rooms(
        org=org, doctor_id=doctor.pk, room_ids=candidates, start=start, end=busy_until, exclude_id=exclude_id
    )
    if av.overlaps(doctor_taken, start, busy_until):
        raise Conflict("the doctor is already booked at that time", fields={"start": ["the doctor is busy"]})
    free = [
        pk
        for pk in sorted(candidates, key=lambda pk: (rooms[pk].name, str(pk)))
        if not av.overlaps(room_taken.get(pk, []), start, busy_until)
        and not av.overlaps(closed.get(pk, []), start, busy_until)
    ]
    while free:
        pk = _lock_free_room(org, free)
        # re-read the locked room: a booking that held it has committed by now and is visible
        _, again = selectors.taken_by_doctor_and_rooms(
            org=org, doctor_id=None, room_ids=[pk], start=start, end=busy_until, exclude_id=exclude_id
        )
        if not av.overlaps(again.get(pk, []), start, busy_until):
            return rooms[pk]
        free.remove(pk)
    if room is not None:
        raise Conflict("the room is already booked at that time", fields={"room": ["the room is busy"]})
    raise Conflict(
        f"no free {RoomType(service.room_type).label.lower()} at that time", fields={"room": ["no free room"]}
    )


def _lock_free_room(org: Organization, free: list[uuid.UUID]) -> uuid.UUID:
    """Lock one of the ``free`` rooms (listed in preference order) and return its id.

    Only the room that will be used is locked, so bookings of different rooms run in parallel: the
    first preferred room no other transaction holds (``FOR UPDATE SKIP LOCKED``), else wait for the
    first one. The caller re-checks the room after the lock. (SQLite has no row locks; its IMMEDIATE
    transactions serialise writers.)"""
    try:
        got = list(
            Room.objects.for_org(org)
            .filter(pk__in=free)
            .order_by("name", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:1]
        )
        if got:
            return got[0]
        Room.objects.for_org(org).select_for_update().filter(pk=free[0]).values_list("pk", flat=True).first()
    except OperationalError as exc:
        if "deadlock" in str(exc).lower():
            raise Conflict(
                "the room is already booked at that time", fields={"room": ["the room is busy"]}
            ) from exc
        raise
    return free[0]


def _save_appointment(appt: Appointment, *, update_fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            if update_fields:
                appt.save(update_fields=update_fields)
            else:
                appt.save(force_insert=True)
    except IntegrityError as exc:
        text = str(exc)
        if "appt_no_room_overlap" in text:
            raise Conflict(
                "the room is already booked at that time", fields={"room": ["the room is busy"]}
            ) from exc
        if "appt_no_doctor_overlap" in text or "exclusion" in text.lower():
            raise Conflict(
                "the doctor is already booked at that time", fields={"start": ["the doctor is busy"]}
            ) from exc
        raise


def message_context(appt: Appointment) -> dict[str, Any]:
    tz = appt.branch.tz
    local = appt.start_at.astimezone(tz)
    return {
        "appointment_id": str(appt.pk),
        "service": appt.service.name,
        "doctor": appt.doctor.full_name,
        "branch": appt.branch.name,
        "address": ", ".join(p for p in (appt.branch.address, appt.branch.city) if p),
        "start_local": local.strftime("%Y-%m-%d %H:%M"),
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "timezone": appt.branch.timezone,
        "start_utc": appt.start_at.astimezone(dt.UTC).isoformat(),
        "manage_url": public_base_url() + manage_path(appt),
    }


def _enqueue(**kwargs: Any) -> None:
    from clinicflow.messaging.services import message_enqueue

    message_enqueue(**kwargs)


def _enqueue_many(**kwargs: Any) -> None:
    from clinicflow.messaging.services import message_enqueue_many as enqueue_many

    enqueue_many(**kwargs)


def _cancel_messages(org: Organization, prefix: str) -> None:
    from clinicflow.messaging.services import message_cancel

    message_cancel(org=org, dedupe_key_prefix=prefix)


def reminder_prefix(appt: Appointment) -> str:
    return f"appt:{appt.pk}:appointment_reminder:"


def _notify(
    appt: Appointment, kind: str, *, tag: str, with_ics: bool, reminders: bool, new: bool = False
) -> None:
    """Outbox rows for a change: the message of ``kind`` on each channel and (re)scheduled reminders.

    Dedupe keys follow ``appt:<id>:<kind>:<offset or tag>:<channel>``."""
    org = appt.organization
    conf = selectors.settings_for(org=org, branch=appt.branch)
    context = message_context(appt)
    ics = appointment_ics(appt, clinic=org.name) if with_ics else None
    channels = [c for c in (conf.reminder_channels or CHANNELS) if c in CHANNELS] or list(CHANNELS)
    items: list[EnqueueItem] = []
    for channel in CHANNELS:
        attachments = [("appointment.ics", "text/calendar", ics)] if ics and channel == "email" else []
        items.append(
            {
                "channel": channel,
                "kind": kind,
                "context": context,
                "dedupe_key": f"appt:{appt.pk}:{kind}:{tag}:{channel}",
                "attachments": attachments,
            }
        )
    if reminders:
        now = timezone.now()
        for offset in conf.reminder_offsets_minutes or []:
            send_after = appt.start_at - dt.timedelta(minutes=int(offset))
            if send_after <= now:
                continue
            for channel in channels:
                items.append(
                    {
                        "channel": channel,
                        "kind": "appointment_reminder",
                        "context": context,
                        "send_after": send_after,
                        "dedupe_key": f"appt:{appt.pk}:appointment_reminder:{int(offset)}:{channel}",
                    }
                )
    # one batch: the patient's contacts, templates and dedupe keys are read once, one INSERT
    _enqueue_many(org=org, patient=appt.patient, items=items, fresh_keys=new)


def _is_first_visit(org: Organization, patient: Patient, service: Service, start: dt.datetime) -> bool:
    if service.is_first_visit:
        return True
    return not (
        Appointment.objects.for_org(org)
        .filter(patient=patient, start_at__lt=start)
        .exclude(status=AppointmentStatus.CANCELLED)
        .exists()
    )


@transaction.atomic
def appointment_book(
    *,
    org: Organization,
    actor: User | None,
    branch: Branch,
    patient: Patient,
    service: Service,
    doctor: Doctor,
    start: dt.datetime,
    room: Room | None = None,
    source: str = AppointmentSource.STAFF,
    notes: str = "",
    status: str = AppointmentStatus.BOOKED,
    notify: bool = True,
    request: HttpRequest | None = None,
) -> Appointment:
    """Book ``service`` for ``patient`` with ``doctor`` at ``start`` (aware). Picks a free room of the
    service's room type unless ``room`` is given. Raises ValidationFailed (naming the field) for a
    request the rules refuse, Conflict when the doctor or every suitable room is taken."""
    _same_org(org, branch=branch, patient=patient, service=service, doctor=doctor, room=room)
    if source not in AppointmentSource.values:
        raise ValidationFailed.field("source", f"must be one of {', '.join(AppointmentSource.values)}")
    if status not in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
        raise ValidationFailed.field("status", "a new appointment is booked or confirmed")
    if patient.merged_into_id is not None:
        raise ValidationFailed.field("patient", "the patient was merged into another record")
    start = _aware(start, "start")
    end = start + dt.timedelta(minutes=service.duration_minutes)
    busy_until = end + dt.timedelta(minutes=service.buffer_minutes)
    _check_booking_rules(org=org, branch=branch, service=service, doctor=doctor, start=start, end=end)
    # reads that need no lock come first, to keep the locked part of the transaction short
    price, currency = price_for(
        org=org, service=service, branch=branch, day=start.astimezone(branch.tz).date()
    )
    first_visit = _is_first_visit(org, patient, service, start)
    chosen = _lock_and_check(
        org=org, branch=branch, service=service, doctor=doctor, start=start, busy_until=busy_until, room=room
    )
    now = timezone.now()
    appt = Appointment(
        organization=org,
        branch=branch,
        patient=patient,
        service=service,
        doctor=doctor,
        room=chosen,
        start_at=start,
        end_at=end,
        busy_until=busy_until,
        status=status,
        price=price,
        currency=currency,
        is_first_visit=first_visit,
        source=source,
        booked_by=actor if actor is not None and actor.pk else None,
        notes=_text(notes, "notes", 500, required=False),
        created_at=now,
        updated_at=now,
    )
    _save_appointment(appt)
    appt.organization = org
    if notify:
        # the keys name the appointment inserted just above: none can exist yet
        _notify(appt, "appointment_confirmation", tag="0", with_ics=True, reminders=True, new=True)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="appointment",
        object_id=appt.pk,
        request=request,
    )
    return appt


def _lock_appointment(org: Organization, appt: Appointment) -> Appointment:
    _same_org(org, appointment=appt)
    locked = Appointment.objects.for_org(org).select_for_update().filter(pk=appt.pk).first()
    if locked is None:
        raise NotFound("appointment not found")
    return selectors.appointment_get(org=org, appointment_id=locked.pk)


@transaction.atomic
def appointment_move(
    *,
    org: Organization,
    actor: User | None,
    appointment: Appointment,
    start: dt.datetime,
    doctor: Doctor | None = None,
    room: Room | None = None,
    notify: bool = True,
    request: HttpRequest | None = None,
) -> Appointment:
    """Move to a new start (and optionally another doctor or room) under the same rules as booking."""
    appt = _lock_appointment(org, appointment)
    _same_org(org, doctor=doctor, room=room)
    if appt.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
        raise Conflict(
            f"a {appt.get_status_display().lower()} appointment cannot be moved",
            fields={"status": ["not movable"]},
        )
    doctor = doctor or appt.doctor
    start = _aware(start, "start")
    service = appt.service
    end = start + dt.timedelta(minutes=service.duration_minutes)
    busy_until = end + dt.timedelta(minutes=service.buffer_minutes)
    _check_booking_rules(org=org, branch=appt.branch, service=service, doctor=doctor, start=start, end=end)
    keep_room = room
    if keep_room is None and appt.room is not None:
        # Prefer the same room when it is free; otherwise any free room of the type.
        try:
            with transaction.atomic():
                chosen = _lock_and_check(
                    org=org,
                    branch=appt.branch,
                    service=service,
                    doctor=doctor,
                    start=start,
                    busy_until=busy_until,
                    room=appt.room,
                    exclude_id=appt.pk,
                )
        except Conflict:
            chosen = _lock_and_check(
                org=org,
                branch=appt.branch,
                service=service,
                doctor=doctor,
                start=start,
                busy_until=busy_until,
                room=None,
                exclude_id=appt.pk,
            )
    else:
        chosen = _lock_and_check(
            org=org,
            branch=appt.branch,
            service=service,
            doctor=doctor,
            start=start,
            busy_until=busy_until,
            room=keep_room,
            exclude_id=appt.pk,
        )
    old_start = appt.start_at
    appt.start_at, appt.end_at, appt.busy_until = start, end, busy_until
    appt.doctor, appt.room = doctor, chosen
    appt.updated_at = timezone.now()
    _save_appointment(
        appt, update_fields=["start_at", "end_at", "busy_until", "doctor", "room", "updated_at"]
    )
    if notify:
        _cancel_messages(org, reminder_prefix(appt))
        _notify(appt, "appointment_changed", tag=str(int(start.timestamp())), with_ics=True, reminders=True)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appt.pk,
        fields=["start_at"] + (["doctor"] if doctor.pk != appointment.doctor_id else []),
        request=request,
    )
    _offer_freed_slot(org=org, appt_branch=appt.branch, service=service, start=old_start)
    return appt


@transaction.atomic
def appointment_cancel(
    *,
    org: Organization,
    actor: User | None,
    appointment: Appointment,
    reason: str,
    by_patient: bool = False,
    notify: bool = True,
    request: HttpRequest | None = None,
) -> Appointment:
    appt = _lock_appointment(org, appointment)
    reason = _text(reason, "reason", 300)
    if appt.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED):
        raise Conflict(
            f"a {appt.get_status_display().lower()} appointment cannot be cancelled",
            fields={"status": ["not cancellable"]},
        )
    now = timezone.now()
    conf = selectors.settings_for(org=org, branch=appt.branch)
    appt.status = AppointmentStatus.CANCELLED
    appt.cancel_reason = reason
    appt.cancelled_at = now
    appt.is_late_cancellation = appt.start_at - now < dt.timedelta(hours=conf.cancellation_cutoff_hours)
    appt.updated_at = now
    appt.save(update_fields=["status", "cancel_reason", "cancelled_at", "is_late_cancellation", "updated_at"])
    if notify:
        _cancel_messages(org, reminder_prefix(appt))
        _notify(appt, "appointment_cancelled", tag="0", with_ics=False, reminders=False)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appt.pk,
        fields=["status", "cancel_reason"] + (["by_patient"] if by_patient else []),
        request=request,
    )
    _offer_freed_slot(org=org, appt_branch=appt.branch, service=appt.service, start=appt.start_at)
    return appt


MARK_FROM = {
    AppointmentStatus.CONFIRMED: (AppointmentStatus.BOOKED,),
    AppointmentStatus.ARRIVED: (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED),
    AppointmentStatus.DONE: (
        AppointmentStatus.BOOKED,
        AppointmentStatus.CONFIRMED,
        AppointmentStatus.ARRIVED,
    ),
    AppointmentStatus.NO_SHOW: (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED),
}


@transaction.atomic
def appointment_mark(
    *,
    org: Organization,
    actor: User | None,
    appointment: Appointment,
    status: str,
    at: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Appointment:
    """Mark confirmed, arrived, done or no-show (from the statuses ``MARK_FROM`` allows)."""
    if status not in MARK_FROM:
        raise ValidationFailed.field("status", f"must be one of {', '.join(MARK_FROM)}")
    appt = _lock_appointment(org, appointment)
    if appt.status not in MARK_FROM[AppointmentStatus(status)]:
        raise Conflict(
            f"cannot mark a {appt.get_status_display().lower()} appointment as "
            f"{AppointmentStatus(status).label.lower()}",
            fields={"status": ["not allowed from the current status"]},
        )
    now = at or timezone.now()
    if status == AppointmentStatus.NO_SHOW and now < appt.start_at:
        raise ValidationFailed.field("status", "a no-show can be marked only after the start time")
    appt.status = status
    fields = ["status", "updated_at"]
    if status == AppointmentStatus.ARRIVED:
        appt.arrived_at = now
        fields.append("arrived_at")
    appt.updated_at = timezone.now()
    appt.save(update_fields=fields)
    if status == AppointmentStatus.NO_SHOW:
        _cancel_messages(org, reminder_prefix(appt))
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appt.pk,
        fields=["status"],
        request=request,
    )
    return appt


@transaction.atomic
def payment_record(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    branch: Branch,
    amount: object,
    method: str,
    currency: str | None = None,
    appointment: Appointment | None = None,
    kind: str = PaymentKind.PAYMENT,
    paid_at: dt.datetime | None = None,
    note: str = "",
) -> Payment:
    _same_org(org, patient=patient, branch=branch, appointment=appointment)
    if appointment is not None and appointment.patient_id != patient.pk:
        raise ValidationFailed.field("appointment", "belongs to another patient")
    if method not in PaymentMethod.values:
        raise ValidationFailed.field("method", f"must be one of {', '.join(PaymentMethod.values)}")
    if kind not in PaymentKind.values:
        raise ValidationFailed.field("kind", f"must be one of {', '.join(PaymentKind.values)}")
    currency = (currency or branch.currency).upper()
    if currency not in MINOR_UNITS:
        raise ValidationFailed.field("currency", f"must be one of {', '.join(sorted(MINOR_UNITS))}")
    try:
        value = quantize(to_decimal(amount), currency)
    except MoneyError as exc:
        raise ValidationFailed.field("amount", str(exc)) from exc
    if value <= 0:
        raise ValidationFailed.field("amount", "must be positive (record a refund with kind=refund)")
    if paid_at is not None:
        paid_at = _aware(paid_at, "paid_at")
    now = timezone.now()
    payment = Payment.objects.create(
        organization=org,
        appointment=appointment,
        patient=patient,
        branch=branch,
        amount=value,
        currency=currency,
        method=method,
        kind=kind,
        paid_at=paid_at or now,
        recorded_by=actor if actor is not None and actor.pk else None,
        note=_text(note, "note", 300, required=False),
        created_at=now,
    )
    audit_record(org=org, actor=actor, action=AuditAction.CREATE, object_type="payment", object_id=payment.pk)
    return payment


# --- waitlist --------------------------------------------------------------------------------------


@transaction.atomic
def waitlist_add(
    *,
    org: Organization,
    actor: User | None,
    branch: Branch,
    patient: Patient,
    service: Service,
    date_from: dt.date,
    date_to: dt.date,
    doctor: Doctor | None = None,
    time_from: dt.time | None = None,
    time_to: dt.time | None = None,
    notes: str = "",
) -> WaitlistEntry:
    _same_org(org, branch=branch, patient=patient, service=service, doctor=doctor)
    if date_to < date_from:
        raise ValidationFailed.field("date_to", "must not be before the start date")
    if time_from is not None and time_to is not None and time_to <= time_from:
        raise ValidationFailed.field("time_to", "must be after the earliest time")
    entry = WaitlistEntry.objects.create(
        organization=org,
        branch=branch,
        patient=patient,
        service=service,
        doctor=doctor,
        date_from=date_from,
        date_to=date_to,
        time_from=time_from,
        time_to=time_to,
        notes=_text(notes, "notes", 300, required=False),
        created_by=actor if actor is not None and actor.pk else None,
    )
    audit_record(org=org, actor=actor, action=AuditAction.CREATE, object_type="waitlist", object_id=entry.pk)
    return entry


@transaction.atomic
def waitlist_close(
    *, org: Organization, actor: User | None, entry: WaitlistEntry, appointment: Appointment | None = None
) -> WaitlistEntry:
    _same_org(org, entry=entry, appointment=appointment)
    entry.status = WaitlistStatus.BOOKED if appointment is not None else WaitlistStatus.CLOSED
    entry.appointment = appointment
    entry.save(update_fields=["status", "appointment"])
    audit_record(org=org, actor=actor, action=AuditAction.UPDATE, object_type="waitlist", object_id=entry.pk)
    return entry


def _offer_freed_slot(
    *, org: Organization, appt_branch: Branch, service: Service, start: dt.datetime
) -> None:
    """A slot was freed: offer it to the oldest waiting entry that fits (marked ``offered``, shown to the
    front desk with a one-click booking). Runs inside the cancel/move transaction."""
    if start <= timezone.now():
        return
    local = start.astimezone(appt_branch.tz)
    entries = (
        WaitlistEntry.objects.for_org(org)
        .filter(
            branch=appt_branch,
            service=service,
            status=WaitlistStatus.WAITING,
            date_from__lte=local.date(),
            date_to__gte=local.date(),
        )
        .order_by("created_at", "id")[:20]
    )
    for entry in entries:
        if entry.time_from is not None and local.time() < entry.time_from:
            continue
        if entry.time_to is not None and local.time() > entry.time_to:
            continue
        slots = selectors.slots_find(
            org=org,
            branch=appt_branch,
            service=service,
            doctor=entry.doctor,
            date_from=local.date(),
            date_to=local.date(),
            limit=None,
        )
        match = next((s for s in slots if s.start == start), None)
        if match is None:
            continue
        entry.status = WaitlistStatus.OFFERED
        entry.offered_start = match.start
        entry.offered_doctor_id = match.doctor_id
        entry.offered_at = timezone.now()
        entry.save(update_fields=["status", "offered_start", "offered_doctor", "offered_at"])
        return


# --- bulk helpers for the simulator ----------------------------------------------------------------


def appointment_build(
    *,
    org: Organization,
    branch: Branch,
    patient: Patient,
    service: Service,
    doctor: Doctor,
    room: Room | None,
    start: dt.datetime,
    status: str = AppointmentStatus.DONE,
    source: str = AppointmentSource.SIMULATOR,
    price: Decimal | None = None,
    currency: str | None = None,
    is_first_visit: bool = False,
    created_at: dt.datetime | None = None,
) -> Appointment:
    """An unsaved appointment with ``end_at`` and ``busy_until`` computed as booking does — for
    ``Appointment.objects.bulk_create``. The caller must have checked the interval with
    ``availability.interval_is_free`` against its own taken intervals (the exclusion constraint
    refuses overlaps on PostgreSQL anyway)."""
    start = _aware(start, "start")
    end = start + dt.timedelta(minutes=service.duration_minutes)
    return Appointment(
        organization=org,
        branch=branch,
        patient=patient,
        service=service,
        doctor=doctor,
        room=room,
        start_at=start,
        end_at=end,
        busy_until=end + dt.timedelta(minutes=service.buffer_minutes),
        status=status,
        price=service.price if price is None else price,
        currency=currency or service.currency,
        is_first_visit=is_first_visit,
        source=source,
        created_at=created_at or start,
        updated_at=created_at or start,
    )


__all__ = [
    "HOLDING_STATUSES",
    "appointment_book",
    "appointment_build",
    "appointment_cancel",
    "appointment_mark",
    "appointment_move",
    "payment_record",
]
