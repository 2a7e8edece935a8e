"""Writes of appointments: book, move, cancel, mark; and the unsaved row the simulator bulk-loads.

Each is atomic and writes its messages to the outbox in the same transaction (``notify``); the rules
and the room lock are in ``rules``."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking import selectors
from clinicflow.booking.models import Appointment, AppointmentSource, AppointmentStatus, Doctor, Room
from clinicflow.booking.services.checks import actor_or_none, aware_utc, clean_text, same_org
from clinicflow.booking.services.notify import appointment_notify, reminders_cancel
from clinicflow.booking.services.rules import Request, check_booking_rules, lock_and_check, save_appointment
from clinicflow.booking.services.waitlist import offer_freed_slot
from clinicflow.catalogue.models import Service
from clinicflow.core.audit import audit_record, audited_save
from clinicflow.core.errors import Conflict, NotFound, ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.money import Money
from clinicflow.patients.models import Patient

CHANGEABLE = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)
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


def marks_allowed(appt: Appointment) -> list[AppointmentStatus]:
    """The statuses the appointment may be marked with now."""
    return [s for s, allowed in MARK_FROM.items() if appt.status in allowed]


def _check_new(patient: Patient, source: str, status: str) -> None:
    if source not in AppointmentSource.values:
        raise ValidationFailed.field("source", f"must be one of {', '.join(AppointmentSource.values)}")
    if status not in CHANGEABLE:
        raise ValidationFailed.field("status", "a new appointment is booked or confirmed")
    if patient.merged_into_id is not None:
        raise ValidationFailed.field("patient", "the patient was merged into another record")


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
    same_org(org, branch=branch, patient=patient, service=service, doctor=doctor, room=room)
    _check_new(patient, source, status)
    req = Request.at(branch=branch, service=service, doctor=doctor, start=aware_utc(start, "start"))
    check_booking_rules(org=org, req=req)
    # reads that need no lock come first, to keep the locked part of the transaction short
    price = selectors.price_for(
        org=org, service=service, branch=branch, day=req.start.astimezone(branch.tz).date()
    )
    first_visit = selectors.is_first_visit(org=org, patient=patient, service=service, start=req.start)
    chosen = lock_and_check(org=org, req=req, room=room)
    now = timezone.now()
    appt = appointment_build(
        org=org,
        branch=branch,
        patient=patient,
        service=service,
        doctor=doctor,
        room=chosen,
        start=req.start,
        status=status,
        source=source,
        price=price,
        is_first_visit=first_visit,
        created_at=now,
    )
    appt.booked_by = actor_or_none(actor)
    appt.notes = clean_text(notes, "notes", 500, required=False)
    save_appointment(appt)
    if notify:
        # the keys name the appointment inserted just above: none can exist yet
        appointment_notify(appt, "appointment_confirmation", tag="0", with_ics=True, reminders=True, new=True)
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
    same_org(org, appointment=appt)
    locked = Appointment.objects.for_org(org).select_for_update().filter(pk=appt.pk).first()
    if locked is None:
        raise NotFound("appointment not found")
    return selectors.appointment_get(org=org, appointment_id=locked.pk)


def _not_changeable(appt: Appointment, verb: str, field: str) -> Conflict:
    return Conflict(
        f"a {appt.get_status_display().lower()} appointment cannot be {verb}", fields={"status": [field]}
    )


def _move_room(org: Organization, appt: Appointment, req: Request, room: Room | None) -> Room:
    """The room at the new time: ``room`` when given; else the same room when it is free, else any
    free room of the type."""
    if room is None and appt.room is not None:
        try:
            with transaction.atomic():
                return lock_and_check(org=org, req=req, room=appt.room, exclude_id=appt.pk)
        except Conflict:
            pass
    return lock_and_check(org=org, req=req, room=room, exclude_id=appt.pk)


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
    same_org(org, doctor=doctor, room=room)
    if appt.status not in CHANGEABLE:
        raise _not_changeable(appt, "moved", "not movable")
    doctor = doctor or appt.doctor
    req = Request.at(branch=appt.branch, service=appt.service, doctor=doctor, start=aware_utc(start, "start"))
    check_booking_rules(org=org, req=req)
    chosen = _move_room(org, appt, req, room)
    old_start = appt.start_at
    appt.start_at, appt.end_at, appt.busy_until = req.start, req.end, req.busy_until
    appt.doctor, appt.room = doctor, chosen
    appt.updated_at = timezone.now()
    save_appointment(appt, update_fields=["start_at", "end_at", "busy_until", "doctor", "room", "updated_at"])
    if notify:
        reminders_cancel(org, appt)
        appointment_notify(
            appt, "appointment_changed", tag=str(int(req.start.timestamp())), with_ics=True, reminders=True
        )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appt.pk,
        fields=["start_at"] + (["doctor"] if doctor.pk != appointment.doctor_id else []),
        request=request,
    )
    offer_freed_slot(org=org, branch=appt.branch, service=appt.service, start=old_start)
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
    reason = clean_text(reason, "reason", 300)
    if appt.status not in CHANGEABLE:
        raise _not_changeable(appt, "cancelled", "not cancellable")
    now = timezone.now()
    conf = selectors.settings_for(org=org, branch=appt.branch)
    appt.status = AppointmentStatus.CANCELLED
    appt.cancel_reason = reason
    appt.cancelled_at = now
    appt.is_late_cancellation = appt.start_at - now < dt.timedelta(hours=conf.cancellation_cutoff_hours)
    appt.updated_at = now
    appt.save(update_fields=["status", "cancel_reason", "cancelled_at", "is_late_cancellation", "updated_at"])
    if notify:
        reminders_cancel(org, appt)
        appointment_notify(appt, "appointment_cancelled", tag="0", with_ics=False, reminders=False)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="appointment",
        object_id=appt.pk,
        fields=["status", "cancel_reason"] + (["by_patient"] if by_patient else []),
        request=request,
    )
    offer_freed_slot(org=org, branch=appt.branch, service=appt.service, start=appt.start_at)
    return appt


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
    new = AppointmentStatus(status)
    appt = _lock_appointment(org, appointment)
    if appt.status not in MARK_FROM[new]:
        raise Conflict(
            f"cannot mark a {appt.get_status_display().lower()} appointment as {new.label.lower()}",
            fields={"status": ["not allowed from the current status"]},
        )
    now = at or timezone.now()
    if new == AppointmentStatus.NO_SHOW and now < appt.start_at:
        raise ValidationFailed.field("status", "a no-show can be marked only after the start time")
    appt.status = new
    fields = ["status", "updated_at"]
    if new == AppointmentStatus.ARRIVED:
        appt.arrived_at = now
        fields.append("arrived_at")
    appt.updated_at = timezone.now()
    audited_save(appt, org=org, actor=actor, fields=fields, object_type="appointment", request=request)
    if new == AppointmentStatus.NO_SHOW:
        reminders_cancel(org, appt)
    return appt


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
    price: Money | None = None,
    is_first_visit: bool = False,
    created_at: dt.datetime | None = None,
) -> Appointment:
    """An unsaved appointment with ``end_at`` and ``busy_until`` computed as booking does — for
    ``Appointment.objects.bulk_create``. The caller must have checked the interval with
    ``availability.interval_is_free`` against its own taken intervals (the exclusion constraint
    refuses overlaps on PostgreSQL anyway)."""
    req = Request.at(branch=branch, service=service, doctor=doctor, start=aware_utc(start, "start"))
    price = price if price is not None else Money(service.price, service.currency)
    return Appointment(
        organization=org,
        branch=branch,
        patient=patient,
        service=service,
        doctor=doctor,
        room=room,
        start_at=req.start,
        end_at=req.end,
        busy_until=req.busy_until,
        status=status,
        price=price.amount,
        currency=price.currency,
        is_first_visit=is_first_visit,
        source=source,
        created_at=created_at or req.start,
        updated_at=created_at or req.start,
    )
