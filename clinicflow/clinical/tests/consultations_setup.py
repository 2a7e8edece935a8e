"""Test data of the consultation tests: a clinic with a consultation and two procedures, a doctor who
performs them, a Russian-speaking patient with an e-mail and a booked consultation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from clinicflow.booking.models import Appointment, Doctor
from clinicflow.booking.services import appointment_book
from clinicflow.booking.tests.factories import (
    local,
    make_doctor,
    make_patient,
    make_room,
    make_service,
    next_weekday,
)
from clinicflow.catalogue.models import Service
from clinicflow.clinical.models.consultations import Consultation
from clinicflow.clinical.services.consultations import consultation_record, template_version_create
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient


@dataclass
class Consult:
    org: Organization
    branch: Branch
    consult: Service
    botox: Service
    filler: Service
    doctor: Doctor
    patient: Patient
    appt: Appointment


@pytest.fixture
def cc(org: Organization, branch: Branch, users: Any) -> Consult:
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
    filler = make_service(
        org,
        code="filler",
        name="Lip filler",
        category="fillers",
        duration_minutes=60,
        room_type="treatment",
        price=Decimal("25000.00"),
    )
    make_room(org, branch, "Consult 1", room_type="consultation")
    make_room(org, branch, "Treatment 1", room_type="treatment")
    doctor = make_doctor(org, branch, [consult, botox], "Dr Petrova")
    patient = make_patient(org, email="anna@example.org", preferred_language="ru")
    appt = appointment_book(
        org=org,
        actor=None,
        branch=branch,
        patient=patient,
        service=consult,
        doctor=doctor,
        start=local(branch, next_weekday(0), 10),
        notify=False,
    )
    return Consult(org, branch, consult, botox, filler, doctor, patient, appt)


def answers(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "concerns": "Морщины на лбу",
        "areas": "forehead",
        "goals": "smoother forehead",
        "expectation": 7,
        "expectation_words": "look rested",
        "outcome": "thinking",
    }
    data.update(extra)
    return data


def checklist(cc: Consult, items: tuple[str, ...] = ("Pregnancy", "Anticoagulants")) -> None:
    template_version_create(org=cc.org, actor=None, category="consultation", contraindications=list(items))


def consultation(cc: Consult, **extra: Any) -> Consultation:
    return consultation_record(org=cc.org, actor=None, appointment=cc.appt, data=answers(**extra))


__all__ = ["Consult", "answers", "cc", "checklist", "consultation", "dt"]
