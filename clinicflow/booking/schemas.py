"""Booking API schemas."""

import datetime as dt
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict

from clinicflow.booking.models import Appointment, Doctor
from clinicflow.catalogue.models import Service


class ServiceOut(Schema):
    id: str
    code: str
    name: str
    category: str
    duration_minutes: int
    buffer_minutes: int
    room_type: str
    price: str
    currency: str
    is_first_visit: bool
    course_sessions: int
    course_interval_days: int
    is_bookable_online: bool


def service_out(s: Service) -> dict[str, Any]:
    return {
        "id": str(s.pk),
        "code": s.code,
        "name": s.name,
        "category": s.category,
        "duration_minutes": s.duration_minutes,
        "buffer_minutes": s.buffer_minutes,
        "room_type": s.room_type,
        "price": str(s.price),
        "currency": s.currency,
        "is_first_visit": s.is_first_visit,
        "course_sessions": s.course_sessions,
        "course_interval_days": s.course_interval_days,
        "is_bookable_online": s.is_bookable_online,
    }


class DoctorOut(Schema):
    id: str
    full_name: str
    specialty: str
    is_consultant: bool
    branches: list[str]
    services: list[str]


def doctor_out(d: Doctor, branches: dict, services: dict) -> dict[str, Any]:  # type: ignore[type-arg]
    return {
        "id": str(d.pk),
        "full_name": d.full_name,
        "specialty": d.specialty,
        "is_consultant": d.is_consultant,
        "branches": sorted(str(b) for b in branches.get(d.pk, [])),
        "services": sorted(str(s) for s in services.get(d.pk, [])),
    }


class SlotOut(Schema):
    start: dt.datetime
    end: dt.datetime
    start_local: str = Field(description="The start on the branch's wall clock, YYYY-MM-DDTHH:MM")
    doctor: str
    doctor_name: str
    room: str | None


class SlotsOut(Schema):
    branch: str
    service: str
    timezone: str
    items: list[SlotOut]


class AppointmentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    patient: str
    service: str
    doctor: str
    start: dt.datetime = Field(description="ISO 8601 with an offset, e.g. 2027-03-29T10:00:00+02:00")
    branch: str | None = Field(None, description="Needed only when the doctor works at several branches")
    room: str | None = None
    notes: str = Field("", max_length=500)


class MoveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    start: dt.datetime
    doctor: str | None = None
    room: str | None = None


class CancelIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(..., min_length=1, max_length=300)


class MarkIn(Schema):
    model_config = ConfigDict(extra="forbid")

    status: str


class PaymentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    patient: str
    branch: str
    amount: str = Field(..., description='Decimal as a string, e.g. "12000.00"')
    method: str
    currency: str | None = None
    appointment: str | None = None
    kind: str = "payment"
    paid_at: dt.datetime | None = None
    note: str = Field("", max_length=300)


class PaymentOut(Schema):
    id: str
    patient: str
    branch: str
    appointment: str | None
    amount: str
    currency: str
    method: str
    kind: str
    paid_at: dt.datetime


class AppointmentOut(Schema):
    id: str
    branch: str
    patient: str
    patient_name: str
    service: str
    service_name: str
    doctor: str
    doctor_name: str
    room: str | None
    room_name: str | None
    start: dt.datetime
    end: dt.datetime
    start_local: str
    timezone: str
    status: str
    cancel_reason: str
    cancelled_at: dt.datetime | None
    is_late_cancellation: bool
    price: str
    currency: str
    is_first_visit: bool
    source: str
    created_at: dt.datetime


class AppointmentPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[AppointmentOut]


def appointment_out(a: Appointment) -> dict[str, Any]:
    tz = a.branch.tz
    return {
        "id": str(a.pk),
        "branch": str(a.branch_id),
        "patient": str(a.patient_id),
        "patient_name": a.patient.full_name,
        "service": str(a.service_id),
        "service_name": a.service.name,
        "doctor": str(a.doctor_id),
        "doctor_name": a.doctor.full_name,
        "room": str(a.room_id) if a.room_id else None,
        "room_name": a.room.name if a.room is not None else None,
        "start": a.start_at,
        "end": a.end_at,
        "start_local": a.start_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        "timezone": a.branch.timezone,
        "status": a.status,
        "cancel_reason": a.cancel_reason,
        "cancelled_at": a.cancelled_at,
        "is_late_cancellation": a.is_late_cancellation,
        "price": str(a.price),
        "currency": a.currency,
        "is_first_visit": a.is_first_visit,
        "source": a.source,
        "created_at": a.created_at,
    }
