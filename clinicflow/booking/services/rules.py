"""The booking rules a new or moved appointment must pass, and the room lock that keeps two bookings
from taking one room.

Double booking is prevented twice: the service locks the chosen room's row (``SELECT ... FOR
UPDATE``; on SQLite the IMMEDIATE transaction serialises writers) and checks the doctor and the room
against every appointment that holds them (``HOLDING_STATUSES``, done visits included); on
PostgreSQL the exclusion constraints (booking migrations 0002/0003) refuse overlaps between open
appointments (``OPEN_STATUSES``: booked, confirmed, arrived) whatever slips through — two concurrent
bookings — and their ``IntegrityError`` becomes ``Conflict`` (409)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from clinicflow.booking import availability as av
from clinicflow.booking import selectors
from clinicflow.booking.models import Appointment, Doctor, ExceptionKind, Room
from clinicflow.catalogue.models import RoomType, Service
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import Branch, Organization


def room_busy() -> Conflict:
    return Conflict("the room is already booked at that time", fields={"room": ["the room is busy"]})


def doctor_busy() -> Conflict:
    return Conflict("the doctor is already booked at that time", fields={"start": ["the doctor is busy"]})


@dataclass(frozen=True)
class Request:
    """What is being booked: ``service`` with ``doctor`` at ``branch`` over ``[start, end)``, holding
    the doctor and a room until ``busy_until`` (end + the service's buffer)."""

    branch: Branch
    service: Service
    doctor: Doctor
    start: dt.datetime
    end: dt.datetime
    busy_until: dt.datetime

    @classmethod
    def at(cls, *, branch: Branch, service: Service, doctor: Doctor, start: dt.datetime) -> Request:
        end = start + dt.timedelta(minutes=service.duration_minutes)
        busy_until = end + dt.timedelta(minutes=service.buffer_minutes)
        return cls(branch, service, doctor, start, end, busy_until)


def _closed_reason(schedule: av.Schedule) -> str:
    reasons = [
        e.reason
        for excs in schedule.exceptions.values()
        for e in excs
        if e.kind == ExceptionKind.CLOSED and e.reason
    ]
    return "the doctor is not available then" + (f" ({reasons[0]})" if reasons else "")


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
    if av.contains(av.working_windows(schedule, d0, d1), start, end):
        return None
    opened = {
        day: [e for e in excs if e.kind == ExceptionKind.OPEN] for day, excs in schedule.exceptions.items()
    }
    bare = av.Schedule(tz=tz, hours=schedule.hours, exceptions={d: e for d, e in opened.items() if e})
    if not av.contains(av.working_windows(bare, d0, d1), start, end):
        return "is outside the doctor's working hours at this branch"
    with_breaks = av.Schedule(tz=tz, hours=schedule.hours, breaks=schedule.breaks, exceptions=bare.exceptions)
    if not av.contains(av.working_windows(with_breaks, d0, d1), start, end):
        return "falls in the doctor's break"
    return _closed_reason(schedule)


def check_booking_rules(*, org: Organization, req: Request) -> None:
    """The rules every booking and move passes: open branch, offered service, an active doctor who
    performs it and works there, a future start inside the doctor's schedule."""
    branch, service, doctor = req.branch, req.service, req.doctor
    if not branch.is_active:
        raise ValidationFailed.field("branch", "the branch is closed")
    if not service.is_active:
        raise ValidationFailed.field("service", "the service is not offered")
    if not doctor.is_active:
        raise ValidationFailed.field("doctor", "the doctor is not active")
    performs, works = selectors.doctor_performs_and_works(
        org=org, doctor=doctor, service=service, branch=branch
    )
    if not performs:
        raise ValidationFailed.field("service", f"{doctor.full_name} does not perform {service.name}")
    if not works:
        raise ValidationFailed.field("doctor", f"{doctor.full_name} does not work at {branch.name}")
    if req.start < timezone.now():
        raise ValidationFailed.field("start", "is in the past")
    problem = schedule_problem(org=org, branch=branch, doctor=doctor, start=req.start, end=req.end)
    if problem:
        raise ValidationFailed.field("start", problem)


def _candidate_rooms(org: Organization, req: Request, room: Room | None) -> dict[uuid.UUID, Room]:
    """The given room (checked) or every active room of the service's type at the branch."""
    label = RoomType(req.service.room_type).label
    if room is None:
        rooms = selectors.room_list(org=org, branch=req.branch, room_type=req.service.room_type)
        if not rooms:
            raise ValidationFailed.field("room", f"{req.branch.name} has no {label.lower()}")
        return {r.pk: r for r in rooms}
    if room.branch_id != req.branch.pk:
        raise ValidationFailed.field("room", "the room is in another branch")
    if room.room_type != req.service.room_type:
        raise ValidationFailed.field("room", f"the service needs a {label}")
    if not room.is_active:
        raise ValidationFailed.field("room", "the room is out of use")
    return {room.pk: room}


def lock_and_check(
    *, org: Organization, req: Request, room: Room | None, exclude_id: uuid.UUID | None = None
) -> Room:
    """Check the doctor is free, then pick and lock a free room (see ``_lock_free_room``).

    The doctor is not locked: two bookings of one doctor at overlapping times are refused by the
    database itself — on PostgreSQL the ``appt_no_doctor_overlap`` exclusion constraint makes the second
    INSERT wait for the first transaction and then fail (``save_appointment`` turns that into a
    Conflict); SQLite's IMMEDIATE transactions run one writer at a time. A doctor lock would also
    serialise that doctor's bookings at other times of the day, which under load cost more than it
    saved. The doctor's and the rooms' appointments are read in one query."""
    rooms = _candidate_rooms(org, req, room)
    start, busy_until, tz = req.start, req.busy_until, req.branch.tz
    closed = selectors.room_closures(
        org=org,
        branch=req.branch,
        room_ids=list(rooms),
        date_from=start.astimezone(tz).date(),
        date_to=busy_until.astimezone(tz).date(),
    )
    doctor_taken, room_taken = selectors.taken_by_doctor_and_rooms(
        org=org,
        doctor_id=req.doctor.pk,
        room_ids=list(rooms),
        start=start,
        end=busy_until,
        exclude_id=exclude_id,
    )
    if av.overlaps(doctor_taken, start, busy_until):
        raise doctor_busy()
    free = [
        pk
        for pk in sorted(rooms, key=lambda pk: (rooms[pk].name, str(pk)))
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
        raise room_busy()
    label = RoomType(req.service.room_type).label.lower()
    raise Conflict(f"no free {label} at that time", fields={"room": ["no free room"]})


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
            first: uuid.UUID = got[0]
            return first
        Room.objects.for_org(org).select_for_update().filter(pk=free[0]).values_list("pk", flat=True).first()
    except OperationalError as exc:
        if "deadlock" in str(exc).lower():
            raise room_busy() from exc
        raise
    return free[0]


def save_appointment(appt: Appointment, *, update_fields: list[str] | None = None) -> None:
    """Insert (or update ``update_fields`` of) the appointment; an exclusion-constraint violation — a
    concurrent booking of the doctor or the room — becomes ``Conflict``."""
    try:
        with transaction.atomic():
            if update_fields:
                appt.save(update_fields=update_fields)
            else:
                appt.save(force_insert=True)
    except IntegrityError as exc:
        text = str(exc)
        if "appt_no_room_overlap" in text:
            raise room_busy() from exc
        if "appt_no_doctor_overlap" in text or "exclusion" in text.lower():
            raise doctor_busy() from exc
        raise
