"""Test data of the treatment part: a clinic with two branches, doctors, patients, appointments."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from clinicflow.booking.models import Appointment, Doctor
from clinicflow.booking.tests.factories import make_doctor, make_patient, make_service
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient


@dataclass
class TClinic:
    org: Organization
    branch: Branch
    branch2: Branch
    botox: Service
    filler: Service
    doc1: Doctor
    doc2: Doctor
    anna: Patient
    boris: Patient


_SLOT = [0]


def make_appointment(
    clinic: TClinic, *, patient: Patient, doctor: Doctor, service: Service, branch: Branch | None = None
) -> Appointment:
    _SLOT[0] += 1
    start = timezone.now() - dt.timedelta(days=2, hours=_SLOT[0] * 2)
    return Appointment.objects.create(
        organization=clinic.org,
        branch=branch or clinic.branch,
        patient=patient,
        service=service,
        doctor=doctor,
        start_at=start,
        end_at=start + dt.timedelta(minutes=30),
        busy_until=start + dt.timedelta(minutes=30),
        status="done",
        price=Decimal("1000.00"),
        currency=clinic.org.currency,
    )


def make_clinic(org: Organization, branch: Branch, branch2: Branch) -> TClinic:
    botox = make_service(
        org, code="botox", name="Botulinum toxin", category="botulinum", room_type="treatment"
    )
    filler = make_service(org, code="filler", name="Filler", category="fillers", room_type="treatment")
    doc1 = make_doctor(org, branch, [botox, filler], "Dr One")
    doc2 = make_doctor(org, branch2, [botox, filler], "Dr Two")
    anna = make_patient(org, first_name="Anna", phone="+79161234567")
    boris = make_patient(org, first_name="Boris", last_name="Petrov", phone="+79161234568")
    return TClinic(org, branch, branch2, botox, filler, doc1, doc2, anna, boris)
