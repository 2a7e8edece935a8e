"""Factories of the care tests: a botulinum service with its doctor, a patient, done visits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from clinicflow.booking.models import Appointment, Doctor
from clinicflow.booking.services import appointment_build
from clinicflow.booking.tests.factories import make_doctor, make_patient, make_service
from clinicflow.catalogue.models import RoomType, Service
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient


def botox(org: Organization) -> Service:
    return make_service(
        org,
        code="botox",
        name="Botulinum therapy",
        category="botulinum",
        duration_minutes=30,
        room_type=RoomType.TREATMENT,
        price=Decimal("15000.00"),
    )


def setup(org: Organization, branch: Branch, *, name: str = "Dr Petrova") -> tuple[Service, Doctor, Patient]:
    service = botox(org)
    doctor = make_doctor(org, branch, [service], name)
    patient = make_patient(org, email="anna@example.test", preferred_language="ru")
    return service, doctor, patient


def done_visit(
    org: Organization, branch: Branch, patient: Patient, service: Service, doctor: Doctor, start: dt.datetime
) -> Appointment:
    appt = appointment_build(
        org=org, branch=branch, patient=patient, service=service, doctor=doctor, room=None, start=start
    )
    appt.save()
    return appt
