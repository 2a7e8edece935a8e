from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from clinicflow.booking.models import Doctor, Room
from clinicflow.booking.tests.factories import make_doctor, make_patient, make_room, make_service
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient


@dataclass
class Clinic:
    org: Organization
    branch: Branch
    laser: Service
    consult: Service
    doctor: Doctor
    doctor2: Doctor
    room: Room
    room2: Room
    patient: Patient


@pytest.fixture(autouse=True)
def _counters_in_the_test_database(settings: Any) -> None:
    """Rate-limit counters in the database cache, rolled back with each test (also when a developer
    has REDIS_URL set, whose counters would outlive the test)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "clinicflow_cache"}
    }


@pytest.fixture
def clinic(org: Organization, branch: Branch, users: Any) -> Clinic:
    laser = make_service(org)
    consult = make_service(
        org,
        code="consult",
        name="Consultation",
        category="consultation",
        duration_minutes=30,
        room_type="consultation",
        price="3000.00",
        is_first_visit=True,
    )
    room = make_room(org, branch, "Laser 1")
    room2 = make_room(org, branch, "Consult 1", room_type="consultation")
    doctor = make_doctor(org, branch, [laser, consult], "Dr Petrova")
    doctor2 = make_doctor(org, branch, [consult], "Dr Sidorov")
    patient = make_patient(org, email="anna@example.org")
    return Clinic(org, branch, laser, consult, doctor, doctor2, room, room2, patient)
