"""Booking test data: services, doctors with weekly hours, rooms, patients."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from clinicflow.booking import services
from clinicflow.booking.models import Doctor, Room
from clinicflow.catalogue.models import RoomType, Service
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient
from clinicflow.patients.services import PatientData, patient_create

NINE_TO_SIX = [(dt.time(9), dt.time(18))]


def make_service(org: Organization, code: str = "laser-face", **fields: Any) -> Service:
    values: dict[str, Any] = {
        "name": "Laser resurfacing",
        "category": "laser",
        "duration_minutes": 60,
        "buffer_minutes": 0,
        "room_type": RoomType.LASER,
        "price": Decimal("12000.00"),
        "currency": org.currency,
    }
    values.update(fields)
    return Service.objects.create(organization=org, code=code, **values)


def make_room(
    org: Organization, branch: Branch, name: str = "Laser 1", room_type: str = RoomType.LASER
) -> Room:
    return services.room_create(org=org, actor=None, branch=branch, name=name, room_type=room_type)


def make_doctor(
    org: Organization,
    branch: Branch,
    service_list: list[Service],
    name: str = "Dr Petrova",
    hours: list[tuple[dt.time, dt.time]] | None = None,
    weekdays: range | list[int] = range(7),
    breaks: list[tuple[dt.time, dt.time]] | None = None,
) -> Doctor:
    doctor = services.doctor_create(
        org=org, actor=None, full_name=name, branches=[branch], services=service_list
    )
    services.working_week_set(
        org=org,
        actor=None,
        doctor=doctor,
        branch=branch,
        hours=dict.fromkeys(weekdays, hours or NINE_TO_SIX),
        breaks=dict.fromkeys(weekdays, breaks) if breaks else None,
    )
    return doctor


def make_patient(org: Organization, *, phone: str = "+79161234567", **fields: Any) -> Patient:
    data = PatientData(
        last_name=fields.pop("last_name", "Ivanova"),
        first_name=fields.pop("first_name", "Anna"),
        phones=[phone] if phone else [],
        **fields,
    )
    return patient_create(org=org, actor=None, data=data)


def local(branch: Branch, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=branch.tz)


def next_weekday(weekday: int, *, weeks_ahead: int = 1) -> dt.date:
    today = dt.date.today()
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7 + 7 * weeks_ahead)
