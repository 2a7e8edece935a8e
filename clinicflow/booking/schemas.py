"""Booking API schemas."""

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from ninja import Field, Schema
from pydantic import ConfigDict

from clinicflow.booking.models import Appointment, Doctor, Payment
from clinicflow.booking.selectors.resources import Links
from clinicflow.booking.selectors.slots import Slot


class DoctorOut(Schema):
    id: str
    full_name: str
    specialty: str
    is_consultant: bool
    branches: list[str]
    services: list[str]


def doctor_out(d: Doctor, branches: Links, services: Links) -> dict[str, Any]:
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


def slot_out(s: Slot, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "start": s.start,
        "end": s.end,
        "start_local": s.start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
        "doctor": str(s.doctor_id),
        "doctor_name": s.doctor_name,
        "room": str(s.room_id) if s.room_id else None,
    }


def payment_out(p: Payment) -> dict[str, Any]:
    return {
        "id": str(p.pk),
        "patient": str(p.patient_id),
        "branch": str(p.branch_id),
        "appointment": str(p.appointment_id) if p.appointment_id else None,
        "amount": str(p.amount),
        "currency": p.currency,
        "method": p.method,
        "kind": p.kind,
        "paid_at": p.paid_at,
    }


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
