"""``Practitioner``, ``Schedule`` and ``Slot``: read and search; booking a Slot."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from django.test import Client

from clinicflow.booking.models import Appointment, DoctorBranch
from clinicflow.booking.tests.factories import local, make_doctor, make_service
from clinicflow.core.models import Branch, Organization
from clinicflow.fhir.mapping.common import slot_id, slot_id_parse
from clinicflow.fhir.tests.conftest import FhirClinic, fhir_json, outcome, post

pytestmark = pytest.mark.django_db
Fhir = Callable[[str], Client]


def _schedule(clinic: FhirClinic) -> DoctorBranch:
    return DoctorBranch.objects.get(organization=clinic.org, doctor=clinic.doctor)


def test_practitioner_read_and_search(clinic: FhirClinic, fhir: Fhir) -> None:
    make_doctor(clinic.org, clinic.branch, [clinic.laser], "Dr Sidorov")
    client = fhir("frontdesk")
    body = fhir_json(client.get(f"/fhir/r4/Practitioner/{clinic.doctor.pk}"), 200)
    assert body["name"] == [{"use": "official", "text": "Dr Petrova"}]
    assert body["active"] is True
    found = fhir_json(client.get("/fhir/r4/Practitioner", {"name": "sidor"}), 200)
    assert [e["resource"]["name"][0]["text"] for e in found["entry"]] == ["Dr Sidorov"]
    assert len(fhir_json(client.get("/fhir/r4/Practitioner"), 200)["entry"]) == 2


def test_schedule_read_and_search_by_actor(clinic: FhirClinic, fhir: Fhir) -> None:
    schedule = _schedule(clinic)
    client = fhir("doctor")
    body = fhir_json(client.get(f"/fhir/r4/Schedule/{schedule.pk}"), 200)
    assert body["actor"][0]["reference"] == f"Practitioner/{clinic.doctor.pk}"
    assert body["actor"][1]["display"] == "Moscow"
    assert body["serviceType"][0]["coding"][0]["code"] == "laser-face"
    found = fhir_json(client.get("/fhir/r4/Schedule", {"actor": f"Practitioner/{clinic.doctor.pk}"}), 200)
    assert [e["resource"]["id"] for e in found["entry"]] == [str(schedule.pk)]
    assert fhir_json(client.get("/fhir/r4/Schedule", {"actor": "Practitioner/x"}), 200)["entry"] == []


def test_slot_search_returns_the_booking_slot_search_free_slots(clinic: FhirClinic, fhir: Fhir) -> None:
    schedule = _schedule(clinic)
    day_start = local(clinic.branch, clinic.day, 0).astimezone(dt.UTC).isoformat()
    day_end = local(clinic.branch, clinic.day, 23).astimezone(dt.UTC).isoformat()
    params = [
        ("schedule", f"Schedule/{schedule.pk}"),
        ("service-type", "laser-face"),
        ("start", f"ge{day_start}"),
        ("start", f"lt{day_end}"),
    ]
    url = f"/fhir/r4/Slot?{urlencode(params)}"
    body = fhir_json(fhir("frontdesk").get(url + "&_count=100"), 200)
    starts = [e["resource"]["start"] for e in body["entry"]]
    # 09:00-18:00 in 15-minute steps for a 60-minute service: 09:00 .. 17:00 = 33 starts
    assert len(starts) == 33
    assert starts[0] == local(clinic.branch, clinic.day, 9).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = body["entry"][0]["resource"]
    assert first["status"] == "free" and first["schedule"]["reference"] == f"Schedule/{schedule.pk}"
    assert slot_id_parse(first["id"]) == (schedule.pk, clinic.laser.pk, local(clinic.branch, clinic.day, 9))
    paged = fhir_json(fhir("frontdesk").get(url + "&_count=5"), 200)
    assert len(paged["entry"]) == 5 and any(link["relation"] == "next" for link in paged["link"])


def test_slot_search_needs_schedule_and_service(clinic: FhirClinic, fhir: Fhir) -> None:
    client = fhir("frontdesk")
    assert outcome(client.get("/fhir/r4/Slot"), 400) == "a Slot search needs schedule and service-type"
    assert (
        outcome(client.get("/fhir/r4/Slot", {"schedule": "x", "service-type": "laser-face"}), 400)
        == "unknown schedule"
    )
    bad = {"schedule": str(_schedule(clinic).pk), "service-type": "laser-face", "status": "busy"}
    assert outcome(client.get("/fhir/r4/Slot", bad), 400) == "only free slots are searched: status=free"


def test_a_slot_is_readable_while_free_and_booking_it_takes_it(clinic: FhirClinic, fhir: Fhir) -> None:
    schedule = _schedule(clinic)
    start = local(clinic.branch, clinic.day, 9)
    sid = slot_id(schedule.pk, clinic.laser.pk, start)
    client = fhir("frontdesk")
    assert fhir_json(client.get(f"/fhir/r4/Slot/{sid}"), 200)["id"] == sid
    request = {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{sid}"}],
        "participant": [{"actor": {"reference": f"Patient/{clinic.patient.pk}"}, "status": "accepted"}],
    }
    body = fhir_json(post(client, "/fhir/r4/Appointment", request), 201)
    appt = Appointment.objects.get(pk=body["id"])
    assert (appt.start_at, appt.doctor_id, appt.service_id) == (start, clinic.doctor.pk, clinic.laser.pk)
    assert outcome(client.get(f"/fhir/r4/Slot/{sid}"), 404) == "slot not found or no longer free"
    assert fhir_json(post(client, "/fhir/r4/Appointment", request), 409)["issue"][0]["code"] == "conflict"
    assert outcome(client.get("/fhir/r4/Slot/zzz"), 404) == "slot not found"


def test_another_organisations_schedule_practitioner_and_slot_are_404(
    clinic: FhirClinic, fhir: Fhir, other_org: Organization, other_branch: Branch
) -> None:
    service = make_service(other_org)
    doctor = make_doctor(other_org, other_branch, [service], "Dr Secretdoc")
    schedule = DoctorBranch.objects.get(organization=other_org, doctor=doctor)
    client = fhir("owner")
    sid = slot_id(schedule.pk, service.pk, local(other_branch, clinic.day, 10))
    for url in (
        f"/fhir/r4/Practitioner/{doctor.pk}",
        f"/fhir/r4/Schedule/{schedule.pk}",
        f"/fhir/r4/Slot/{sid}",
    ):
        response = client.get(url)
        outcome(response, 404)
        assert b"Secretdoc" not in response.content
