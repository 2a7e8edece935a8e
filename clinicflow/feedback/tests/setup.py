"""Test data of the feedback tests: a clinic with a consultation (expectation 8) and a done botulinum
visit of a Russian-speaking patient, a branch manager."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking.models import Appointment, AppointmentStatus, Doctor
from clinicflow.booking.services import appointment_book
from clinicflow.booking.tests.factories import (
    local,
    make_doctor,
    make_patient,
    make_room,
    make_service,
    next_weekday,
)
from clinicflow.clinical.models.consultations import Consultation
from clinicflow.clinical.services.consultations import consultation_record
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient


@dataclass
class Visit:
    org: Organization
    branch: Branch
    doctor: Doctor
    patient: Patient
    consult_appt: Appointment
    appt: Appointment
    consultation: Consultation
    manager: User


def done_at(appt: Appointment, end: dt.datetime) -> Appointment:
    """Move a booked appointment into the past and mark it done (test setup only)."""
    length = appt.end_at - appt.start_at
    Appointment.objects.filter(pk=appt.pk).update(
        start_at=end - length, end_at=end, busy_until=end, status=AppointmentStatus.DONE
    )
    appt.refresh_from_db()
    return appt


def make_visit(
    org: Organization, branch: Branch, users: Any, *, expectation: int = 8, phone: str = "+79161234567"
) -> Visit:
    consult = make_service(
        org,
        code="consult",
        name="Consultation",
        category="consultation",
        duration_minutes=30,
        room_type="consultation",
        price=Decimal("3000.00"),
        is_first_visit=True,
    )
    botox = make_service(
        org,
        code="botox",
        name="Botulinum forehead",
        category="botulinum",
        duration_minutes=30,
        room_type="treatment",
        price=Decimal("18000.00"),
    )
    make_room(org, branch, "Consult 1", room_type="consultation")
    make_room(org, branch, "Treatment 1", room_type="treatment")
    doctor = make_doctor(org, branch, [consult, botox], "Dr Petrova")
    patient = make_patient(org, phone=phone, email="anna@example.org", preferred_language="ru")
    day = next_weekday(0)
    c_appt = appointment_book(
        org=org,
        actor=None,
        branch=branch,
        patient=patient,
        service=consult,
        doctor=doctor,
        start=local(branch, day, 10),
        notify=False,
    )
    appt = appointment_book(
        org=org,
        actor=None,
        branch=branch,
        patient=patient,
        service=botox,
        doctor=doctor,
        start=local(branch, day, 11),
        notify=False,
    )
    consultation = consultation_record(
        org=org,
        actor=None,
        appointment=c_appt,
        data={"concerns": "forehead lines", "expectation": expectation, "outcome": "booked"},
    )
    now = timezone.now()
    Consultation.objects.filter(pk=consultation.pk).update(created_at=now - dt.timedelta(days=2))
    done_at(c_appt, now - dt.timedelta(days=2))
    done_at(appt, now - dt.timedelta(hours=5))
    manager = users["manager"]
    manager.branch = branch
    manager.save(update_fields=["branch"])
    return Visit(org, branch, doctor, patient, c_appt, appt, consultation, manager)


__all__ = ["Visit", "done_at", "make_visit"]
