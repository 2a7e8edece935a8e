"""``Appointment``: read, search (patient, date, status, practitioner) and create through the
booking rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from clinicflow.booking import services as booking
from clinicflow.booking.models import Appointment
from clinicflow.booking.tests.factories import local, make_doctor, make_patient, make_room, make_service
from clinicflow.core.models import AuditEvent, Branch, Organization
from clinicflow.fhir.tests.conftest import FhirClinic, fhir_json, outcome, post

pytestmark = pytest.mark.django_db
Fhir = Callable[[str], Client]


def _book(clinic: FhirClinic, hour: int, **kwargs: Any) -> Appointment:
    return booking.appointment_book(
        org=clinic.org,
        actor=None,
        branch=clinic.branch,
        patient=kwargs.pop("patient", clinic.patient),
        service=clinic.laser,
        doctor=kwargs.pop("doctor", clinic.doctor),
        start=local(clinic.branch, kwargs.pop("day", clinic.day), hour),
        notify=False,
        **kwargs,
    )


def _request(clinic: FhirClinic, hour: int) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "serviceType": [{"coding": [{"system": "urn:clinicflow:service", "code": "laser-face"}]}],
        "start": local(clinic.branch, clinic.day, hour).isoformat(),
        "participant": [
            {"actor": {"reference": f"Patient/{clinic.patient.pk}"}, "status": "accepted"},
            {"actor": {"reference": f"Practitioner/{clinic.doctor.pk}"}, "status": "accepted"},
        ],
    }


def test_reading_an_appointment(clinic: FhirClinic, fhir: Fhir) -> None:
    appt = _book(clinic, 10)
    body = fhir_json(fhir("doctor").get(f"/fhir/r4/Appointment/{appt.pk}"), 200)
    start = local(clinic.branch, clinic.day, 10).astimezone(dt.UTC)
    assert body["status"] == "booked"
    assert body["start"] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body["minutesDuration"] == 60
    assert body["participant"][0]["actor"]["reference"] == f"Patient/{clinic.patient.pk}"
    assert body["participant"][1]["actor"]["reference"] == f"Practitioner/{clinic.doctor.pk}"
    assert body["participant"][2]["actor"]["display"] == "Moscow"
    assert body["serviceType"][0]["coding"][0]["code"] == "laser-face"
    assert (
        AuditEvent.objects.filter(organization=clinic.org, object_type="appointment", action="view").count()
        == 1
    )


def test_another_organisations_appointment_is_404(
    clinic: FhirClinic, fhir: Fhir, other_org: Organization, other_branch: Branch
) -> None:
    service = make_service(other_org)
    make_room(other_org, other_branch)
    doctor = make_doctor(other_org, other_branch, [service], "Dr Secretdoc")
    patient = make_patient(other_org, last_name="Wangsecret")
    theirs = booking.appointment_book(
        org=other_org, actor=None, branch=other_branch, patient=patient, service=service, doctor=doctor,
        start=local(other_branch, clinic.day, 10), notify=False,
    )  # fmt: skip
    response = fhir("owner").get(f"/fhir/r4/Appointment/{theirs.pk}")
    assert outcome(response, 404) == "appointment not found"
    listed = fhir_json(fhir("owner").get("/fhir/r4/Appointment", {"patient": f"Patient/{patient.pk}"}), 200)
    assert listed["entry"] == []


def test_search_by_patient_date_status_and_practitioner(clinic: FhirClinic, fhir: Fhir) -> None:
    other = make_patient(clinic.org, last_name="Orlova", phone="+79990001122")
    a10 = _book(clinic, 10)
    a12 = _book(clinic, 12, patient=other)
    a14 = _book(clinic, 14)
    booking.appointment_cancel(org=clinic.org, actor=None, appointment=a14, reason="ill")
    next_day = _book(clinic, 10, day=clinic.day + dt.timedelta(days=1))
    client = fhir("frontdesk")

    def ids(*pairs: tuple[str, str]) -> list[str]:
        query = "&".join(f"{k}={v}" for k, v in pairs).replace("+", "%2B")
        body = fhir_json(client.get(f"/fhir/r4/Appointment?{query}"), 200)
        return [e["resource"]["id"] for e in body["entry"]]

    utc = local(clinic.branch, clinic.day, 12).astimezone(dt.UTC)
    noon = utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(("patient", f"Patient/{clinic.patient.pk}")) == [str(a10.pk), str(a14.pk), str(next_day.pk)]
    assert ids(("patient", str(other.pk))) == [str(a12.pk)]
    assert ids(("status", "cancelled")) == [str(a14.pk)]
    assert ids(("status", "booked,cancelled"), ("patient", str(other.pk))) == [str(a12.pk)]
    assert ids(("practitioner", f"Practitioner/{clinic.doctor.pk}"), ("date", f"ge{noon}")) == [
        str(a12.pk), str(a14.pk), str(next_day.pk)
    ]  # fmt: skip
    assert ids(("date", f"gt{noon}")) == [str(a14.pk), str(next_day.pk)]
    assert ids(("date", f"lt{noon}")) == [str(a10.pk)]
    assert ids(("date", f"le{noon}")) == [str(a10.pk), str(a12.pk)]
    assert ids(("date", f"eq{noon}")) == [str(a12.pk)]
    assert ids(("date", f"ge{noon}"), ("date", f"lt{(utc + dt.timedelta(hours=3)).isoformat()}")) == [
        str(a12.pk), str(a14.pk)
    ]  # fmt: skip
    assert ids(("date", next_day.start_at.date().isoformat())) == [str(next_day.pk)]
    assert ids(("practitioner", "Practitioner/not-an-id")) == []
    assert "status must be among" in outcome(client.get("/fhir/r4/Appointment", {"status": "done"}), 400)
    assert "a time needs a zone offset" in outcome(
        client.get("/fhir/r4/Appointment", {"date": "ge2026-01-01T10:00"}), 400
    )


def test_creating_an_appointment_books_it_through_the_booking_service(clinic: FhirClinic, fhir: Fhir) -> None:
    response = post(fhir("frontdesk"), "/fhir/r4/Appointment", _request(clinic, 11))
    body = fhir_json(response, 201)
    appt = Appointment.objects.get(pk=body["id"])
    assert appt.start_at == local(clinic.branch, clinic.day, 11)
    assert (appt.patient_id, appt.doctor_id, appt.branch_id, appt.room_id) == (
        clinic.patient.pk, clinic.doctor.pk, clinic.branch.pk, clinic.room.pk
    )  # fmt: skip
    assert appt.source == "api"
    assert appt.booked_by is not None and appt.booked_by.email == "frontdesk@demo.test"
    assert response["Location"] == f"http://testserver/fhir/r4/Appointment/{appt.pk}"


def test_a_slot_clash_is_a_409_operation_outcome_and_books_nothing(clinic: FhirClinic, fhir: Fhir) -> None:
    _book(clinic, 11)
    body = fhir_json(post(fhir("frontdesk"), "/fhir/r4/Appointment", _request(clinic, 11)), 409)
    assert body["issue"][0]["code"] == "conflict"
    assert Appointment.objects.filter(organization=clinic.org).count() == 1


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"status": "fulfilled"}, "Appointment.status"),
        ({"start": "2026-12-07T10:00:00"}, "Appointment.start"),
        ({"serviceType": [{"text": "laser"}]}, "Appointment.serviceType"),
        (
            {"participant": [{"actor": {"reference": "Patient/0190e1a2-0000-7000-8000-000000000000"}}]},
            "Appointment.participant",
        ),
        ({"participant": [{"actor": {"reference": "Device/1"}}]}, "Appointment.participant[0].actor"),
    ],
)
def test_an_appointment_clinicflow_cannot_book_is_422(
    clinic: FhirClinic, fhir: Fhir, change: dict[str, Any], expression: str
) -> None:
    body = fhir_json(post(fhir("frontdesk"), "/fhir/r4/Appointment", {**_request(clinic, 11), **change}), 422)
    assert body["issue"][0]["expression"][0] == expression
    assert not Appointment.objects.exists()


def test_booking_rules_apply_outside_working_hours(clinic: FhirClinic, fhir: Fhir) -> None:
    body = fhir_json(post(fhir("frontdesk"), "/fhir/r4/Appointment", _request(clinic, 20)), 422)
    assert body["issue"][0]["expression"][0].startswith("Appointment.")
    assert not Appointment.objects.exists()


def test_an_unknown_patient_reference_is_422(clinic: FhirClinic, fhir: Fhir, other_org: Organization) -> None:
    theirs = make_patient(other_org, last_name="Wangsecret")
    request = _request(clinic, 11)
    request["participant"][0]["actor"]["reference"] = f"Patient/{theirs.pk}"
    assert outcome(post(fhir("frontdesk"), "/fhir/r4/Appointment", request), 422).startswith(
        "unknown reference"
    )
    assert not Appointment.objects.exists()


def test_a_doctor_may_not_book_through_fhir(clinic: FhirClinic, fhir: Fhir) -> None:
    response = post(fhir("doctor"), "/fhir/r4/Appointment", _request(clinic, 11))
    assert outcome(response, 403) == "your role may not do this (booking.book)"
    assert (
        outcome(fhir("marketer").get("/fhir/r4/Appointment"), 403)
        == "your role may not do this (booking.view)"
    )
