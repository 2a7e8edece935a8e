"""Booking API: services, doctors, free slots, appointments, payments. Thin handlers over selectors
and services; every operation declares its permission."""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import api_perm
from clinicflow.accounts.models import User
from clinicflow.booking import selectors, services
from clinicflow.booking.models import AppointmentSource, AppointmentStatus, DoctorBranch
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
    ServiceOut,
    SlotsOut,
    appointment_out,
    doctor_out,
    service_out,
)
from clinicflow.core.api import ERRORS
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import NotFound, ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.selectors import branch_get
from clinicflow.patients.selectors import patient_get

router = Router(tags=["booking"])

MAX_SLOT_DAYS = 62


def _ctx(request: HttpRequest) -> tuple[Organization, User]:
    return request.org, request.auth  # type: ignore[attr-defined]


def _field(name: str, func: Any, **kwargs: Any) -> Any:
    """Resolve an id from the request body; an unknown id is a 422 naming the field."""
    try:
        return func(**kwargs)
    except NotFound as exc:
        raise ValidationFailed.field(name, f"unknown {name}") from exc


def _branch(org: Organization, value: str | None, name: str = "branch") -> Branch | None:
    if not value:
        return None
    return _field(name, branch_get, org=org, branch_id=value)  # type: ignore[no-any-return]


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None:
        raise ValidationFailed.field(name, "must include a time zone offset, e.g. +03:00 or Z")
    return value


class ServiceParams(Schema):
    branch: str | None = None
    online: bool = False


@router.get("/services", response={200: list[ServiceOut], **ERRORS})
@api_perm("catalogue.view")
def service_list(request: HttpRequest, params: Query[ServiceParams]) -> list[dict[str, Any]]:
    """Active services; `branch` keeps those some doctor of the branch performs."""
    org, _ = _ctx(request)
    branch = _branch(org, params.branch)
    return [service_out(s) for s in selectors.service_list(org=org, online_only=params.online, branch=branch)]


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
    b = _branch(org, branch)
    assert b is not None
    svc = _field("service", selectors.service_get, org=org, service_id=service)
    doc = _field("doctor", selectors.doctor_get, org=org, doctor_id=doctor) if doctor else None
    today = dt.datetime.now(b.tz).date()
    d0 = date_from or today
    d1 = date_to or d0 + dt.timedelta(days=13)
    if d1 < d0:
        raise ValidationFailed.field("to", "must not be before 'from'")
    if (d1 - d0).days >= MAX_SLOT_DAYS:
        raise ValidationFailed.field("to", f"the period may be at most {MAX_SLOT_DAYS} days")
    if not 1 <= limit <= 1000:
        raise ValidationFailed.field("limit", "must be 1..1000")
    days = None
    if weekday:
        try:
            days = [int(x) for x in weekday.split(",") if x.strip()]
        except ValueError as exc:
            raise ValidationFailed.field("weekday", "a comma list of 0..6 (0 = Monday)") from exc
        if any(d not in range(7) for d in days):
            raise ValidationFailed.field("weekday", "a comma list of 0..6 (0 = Monday)")
    slots = selectors.slots_find(
        org=org,
        branch=b,
        service=svc,
        doctor=doc,
        date_from=d0,
        date_to=d1,
        limit=limit,
        weekdays=days,
        time_from=time_from,
        time_to=time_to,
    )
    tz = b.tz
    return {
        "branch": str(b.pk),
        "service": str(svc.pk),
        "timezone": b.timezone,
        "items": [
            {
                "start": s.start,
                "end": s.end,
                "start_local": s.start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
                "doctor": str(s.doctor_id),
                "doctor_name": s.doctor_name,
                "room": str(s.room_id) if s.room_id else None,
            }
            for s in slots
        ],
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
    branch = _branch(org, payload.branch)
    if branch is None:
        ids = list(
            DoctorBranch.objects.for_org(org).filter(doctor=doctor).values_list("branch_id", flat=True)[:2]
        )
        if len(ids) != 1:
            raise ValidationFailed.field(
                "branch", "is required (the doctor works at several branches or none)"
            )
        branch = branch_get(org=org, branch_id=ids[0])
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
    if params.status and params.status not in AppointmentStatus.values:
        raise ValidationFailed.field("status", f"must be one of {', '.join(AppointmentStatus.values)}")
    from clinicflow.core.selectors import parse_uuid

    patient_id = None
    if params.patient:
        patient_id = parse_uuid(params.patient)
        if patient_id is None:
            raise ValidationFailed.field("patient", "unknown patient")
    filters = selectors.AppointmentFilters(
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
    qs = selectors.appointment_list(org=org, filters=filters)
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
    branch = _branch(org, payload.branch)
    assert branch is not None
    appt = (
        _field("appointment", selectors.appointment_get, org=org, appointment_id=payload.appointment)
        if payload.appointment
        else None
    )
    p = services.payment_record(
        org=org,
        actor=user,
        patient=patient,
        branch=branch,
        amount=payload.amount,
        method=payload.method,
        currency=payload.currency,
        appointment=appt,
        kind=payload.kind,
        paid_at=_aware(payload.paid_at, "paid_at") if payload.paid_at else None,
        note=payload.note,
    )
    return Status(
        201,
        {
            "id": str(p.pk),
            "patient": str(p.patient_id),
            "branch": str(p.branch_id),
            "appointment": str(p.appointment_id) if p.appointment_id else None,
            "amount": str(p.amount),
            "currency": p.currency,
            "method": p.method,
            "kind": p.kind,
            "paid_at": p.paid_at,
        },
    )
