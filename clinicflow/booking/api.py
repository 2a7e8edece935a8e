"""Booking API: doctors, free slots, appointments, payments. Thin handlers over selectors and
services; every operation declares its permission."""

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import api_perm
from clinicflow.accounts.models import User
from clinicflow.booking import selectors, services
from clinicflow.booking.models import AppointmentSource, AppointmentStatus, Doctor
from clinicflow.booking.schemas import (
    AppointmentIn,
    AppointmentOut,
    AppointmentPageOut,
    CancelIn,
    DoctorOut,
    MarkIn,
    MoveIn,
    PaymentIn,
    PaymentOut,
    SlotsOut,
    appointment_out,
    doctor_out,
    payment_out,
    slot_out,
)
from clinicflow.core.api import ERRORS
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import NotFound, ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.selectors import branch_get, parse_uuid
from clinicflow.patients.selectors import patient_get

router = Router(tags=["booking"])

MAX_SLOT_DAYS = 62
T = TypeVar("T")

# GET /services (the services list) is the catalogue's: clinicflow/catalogue/api.py.


def _ctx(request: HttpRequest) -> tuple[Organization, User]:
    return request.org, request.auth  # type: ignore[attr-defined]  # set by TokenAuth


def _field(name: str, func: Callable[..., T], **kwargs: Any) -> T:
    """Resolve an id from the request; an unknown id is a 422 naming the field."""
    try:
        return func(**kwargs)
    except NotFound as exc:
        raise ValidationFailed.field(name, f"unknown {name}") from exc


def _branch(org: Organization, value: str | None, name: str = "branch") -> Branch | None:
    if not value:
        return None
    return _field(name, branch_get, org=org, branch_id=value)


def _doctor_branch(org: Organization, doctor: Doctor) -> Branch:
    """The doctor's one branch, when the request names none."""
    ids = selectors.doctor_branch_ids(org=org, doctor=doctor, limit=2)
    if len(ids) != 1:
        raise ValidationFailed.field("branch", "is required (the doctor works at several branches or none)")
    return branch_get(org=org, branch_id=ids[0])


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None:
        raise ValidationFailed.field(name, "must include a time zone offset, e.g. +03:00 or Z")
    return value


def _weekdays(value: str) -> list[int] | None:
    """A comma list of weekdays (0 = Monday), None when empty."""
    if not value:
        return None
    try:
        days = [int(x) for x in value.split(",") if x.strip()]
    except ValueError as exc:
        raise ValidationFailed.field("weekday", "a comma list of 0..6 (0 = Monday)") from exc
    if any(d not in range(7) for d in days):
        raise ValidationFailed.field("weekday", "a comma list of 0..6 (0 = Monday)")
    return days


def _period(date_from: dt.date | None, date_to: dt.date | None, today: dt.date) -> tuple[dt.date, dt.date]:
    d0 = date_from or today
    d1 = date_to or d0 + dt.timedelta(days=13)
    if d1 < d0:
        raise ValidationFailed.field("to", "must not be before 'from'")
    if (d1 - d0).days >= MAX_SLOT_DAYS:
        raise ValidationFailed.field("to", f"the period may be at most {MAX_SLOT_DAYS} days")
    return d0, d1


class DoctorParams(Schema):
    branch: str | None = None
    service: str | None = None


@router.get("/doctors", response={200: list[DoctorOut], **ERRORS})
@api_perm("booking.view")
def doctor_list(request: HttpRequest, params: Query[DoctorParams]) -> list[dict[str, Any]]:
    org, _ = _ctx(request)
    branch = _branch(org, params.branch)
    service = (
        _field("service", selectors.service_get, org=org, service_id=params.service)
        if params.service
        else None
    )
    doctors = selectors.doctor_list(org=org, branch=branch, service=service)
    branches, svc = selectors.doctor_links(org=org, doctors=doctors)
    return [doctor_out(d, branches, svc) for d in doctors]


@router.get("/slots", response={200: SlotsOut, **ERRORS})
@api_perm("booking.view")
def slot_list(
    request: HttpRequest,
    branch: str,
    service: str,
    doctor: str | None = None,
    date_from: dt.date | None = Query(None, alias="from"),  # type: ignore[type-arg]  # noqa: B008
    date_to: dt.date | None = Query(None, alias="to"),  # type: ignore[type-arg]  # noqa: B008
    limit: int = 100,
    weekday: str = "",
    time_from: dt.time | None = None,
    time_to: dt.time | None = None,
) -> dict[str, Any]:
    """Free slots of a service at a branch, each with its doctor, room and start (UTC and branch-local).

    `from`/`to` are local dates (default: today and 14 days on); `weekday` a comma list (0 = Monday);
    `time_from`/`time_to` bound the local start time ("Saturday morning": `weekday=5&time_to=12:00`)."""
    org, _ = _ctx(request)
    b = _field("branch", branch_get, org=org, branch_id=branch)
    svc = _field("service", selectors.service_get, org=org, service_id=service)
    doc = _field("doctor", selectors.doctor_get, org=org, doctor_id=doctor) if doctor else None
    d0, d1 = _period(date_from, date_to, dt.datetime.now(b.tz).date())
    if not 1 <= limit <= 1000:
        raise ValidationFailed.field("limit", "must be 1..1000")
    slots = selectors.slots_find(
        org=org,
        branch=b,
        service=svc,
        doctor=doc,
        date_from=d0,
        date_to=d1,
        limit=limit,
        weekdays=_weekdays(weekday),
        time_from=time_from,
        time_to=time_to,
    )
    return {
        "branch": str(b.pk),
        "service": str(svc.pk),
        "timezone": b.timezone,
        "items": [slot_out(s, b.tz) for s in slots],
    }


@router.post("/appointments", response={201: AppointmentOut, **ERRORS})
@api_perm("booking.book")
def appointment_create(request: HttpRequest, payload: AppointmentIn) -> Status[dict[str, Any]]:
    """Book. 201 with the appointment; 409 when the time is no longer free; 422 naming a bad field."""
    org, user = _ctx(request)
    start = _aware(payload.start, "start")
    patient = _field("patient", patient_get, org=org, patient_id=payload.patient, with_phones=False)
    service = _field("service", selectors.service_get, org=org, service_id=payload.service)
    doctor = _field("doctor", selectors.doctor_get, org=org, doctor_id=payload.doctor)
    branch = _branch(org, payload.branch) or _doctor_branch(org, doctor)
    room = _field("room", selectors.room_get, org=org, room_id=payload.room) if payload.room else None
    appt = services.appointment_book(
        org=org,
        actor=user,
        branch=branch,
        patient=patient,
        service=service,
        doctor=doctor,
        start=start,
        room=room,
        source=AppointmentSource.API,
        notes=payload.notes,
        request=request,
    )
    # the booked row and its related objects are all in memory: no read-back
    return Status(201, appointment_out(appt))


class AppointmentParams(Schema):
    branch: str | None = None
    doctor: str | None = None
    room: str | None = None
    patient: str | None = None
    status: str | None = None
    limit: int = 50
    offset: int = 0


def _filters(
    org: Organization, params: AppointmentParams, start_from: dt.datetime | None, start_to: dt.datetime | None
) -> selectors.AppointmentFilters:
    if params.status and params.status not in AppointmentStatus.values:
        raise ValidationFailed.field("status", f"must be one of {', '.join(AppointmentStatus.values)}")
    patient_id = parse_uuid(params.patient) if params.patient else None
    if params.patient and patient_id is None:
        raise ValidationFailed.field("patient", "unknown patient")
    return selectors.AppointmentFilters(
        branch=_branch(org, params.branch),
        doctor=_field("doctor", selectors.doctor_get, org=org, doctor_id=params.doctor)
        if params.doctor
        else None,
        room=_field("room", selectors.room_get, org=org, room_id=params.room) if params.room else None,
        patient_id=patient_id,
        status=params.status or "",
        start_from=_aware(start_from, "from") if start_from else None,
        start_to=_aware(start_to, "to") if start_to else None,
    )


@router.get("/appointments", response={200: AppointmentPageOut, **ERRORS})
@api_perm("booking.view")
def appointment_list(
    request: HttpRequest,
    params: Query[AppointmentParams],
    start_from: dt.datetime | None = Query(None, alias="from"),  # type: ignore[type-arg]  # noqa: B008
    start_to: dt.datetime | None = Query(None, alias="to"),  # type: ignore[type-arg]  # noqa: B008
) -> dict[str, Any]:
    """Appointments by start time. Filters: branch, doctor, room, patient, status, `from`/`to` (start)."""
    org, user = _ctx(request)
    if not 1 <= params.limit <= 200 or not 0 <= params.offset <= 10_000_000:
        raise ValidationFailed.field("limit", "limit must be 1..200 and offset >= 0")
    qs = selectors.appointment_list(org=org, filters=_filters(org, params, start_from, start_to))
    items = list(qs[params.offset : params.offset + params.limit])
    audit_record(org=org, actor=user, action=AuditAction.LIST, object_type="appointment", request=request)
    return {
        "count": qs.count(),
        "limit": params.limit,
        "offset": params.offset,
        "items": [appointment_out(a) for a in items],
    }


@router.get("/appointments/{appointment_id}", response={200: AppointmentOut, **ERRORS})
@api_perm("booking.view")
def appointment_detail(request: HttpRequest, appointment_id: str) -> dict[str, Any]:
    org, user = _ctx(request)
    appt = selectors.appointment_get(org=org, appointment_id=appointment_id)
    audit_record(
        org=org,
        actor=user,
        action=AuditAction.VIEW,
        object_type="appointment",
        object_id=appt.pk,
        request=request,
    )
    return appointment_out(appt)


@router.post("/appointments/{appointment_id}/move", response={200: AppointmentOut, **ERRORS})
@api_perm("booking.book")
def appointment_move(request: HttpRequest, appointment_id: str, payload: MoveIn) -> dict[str, Any]:
    """Move to a new start (optionally another doctor or room). 409 when the new time is taken."""
    org, user = _ctx(request)
    appt = selectors.appointment_get(org=org, appointment_id=appointment_id)
    doctor = (
        _field("doctor", selectors.doctor_get, org=org, doctor_id=payload.doctor) if payload.doctor else None
    )
    room = _field("room", selectors.room_get, org=org, room_id=payload.room) if payload.room else None
    services.appointment_move(
        org=org,
        actor=user,
        appointment=appt,
        start=_aware(payload.start, "start"),
        doctor=doctor,
        room=room,
        request=request,
    )
    return appointment_out(selectors.appointment_get(org=org, appointment_id=appt.pk))


@router.post("/appointments/{appointment_id}/cancel", response={200: AppointmentOut, **ERRORS})
@api_perm("booking.book")
def appointment_cancel(request: HttpRequest, appointment_id: str, payload: CancelIn) -> dict[str, Any]:
    org, user = _ctx(request)
    appt = selectors.appointment_get(org=org, appointment_id=appointment_id)
    services.appointment_cancel(org=org, actor=user, appointment=appt, reason=payload.reason, request=request)
    return appointment_out(selectors.appointment_get(org=org, appointment_id=appt.pk))


@router.post("/appointments/{appointment_id}/mark", response={200: AppointmentOut, **ERRORS})
@api_perm("booking.book")
def appointment_mark(request: HttpRequest, appointment_id: str, payload: MarkIn) -> dict[str, Any]:
    """Mark confirmed, arrived, done or no_show."""
    org, user = _ctx(request)
    appt = selectors.appointment_get(org=org, appointment_id=appointment_id)
    services.appointment_mark(org=org, actor=user, appointment=appt, status=payload.status, request=request)
    return appointment_out(selectors.appointment_get(org=org, appointment_id=appt.pk))


@router.post("/payments", response={201: PaymentOut, **ERRORS})
@api_perm("booking.book")
def payment_create(request: HttpRequest, payload: PaymentIn) -> Status[dict[str, Any]]:
    org, user = _ctx(request)
    patient = _field("patient", patient_get, org=org, patient_id=payload.patient)
    branch = _field("branch", branch_get, org=org, branch_id=payload.branch)
    appt = (
        _field("appointment", selectors.appointment_get, org=org, appointment_id=payload.appointment)
        if payload.appointment
        else None
    )
    payment = services.payment_record(
        org=org,
        actor=user,
        patient=patient,
        branch=branch,
        amount=services.payment_amount(payload.amount, payload.currency, branch=branch),
        method=payload.method,
        appointment=appt,
        kind=payload.kind,
        paid_at=_aware(payload.paid_at, "paid_at") if payload.paid_at else None,
        note=payload.note,
    )
    return Status(201, payment_out(payment))
