"""``Patient``: read, search by identifier, name, phone and birthdate, create; audited like the REST API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from clinicflow.booking.tests.factories import make_patient
from clinicflow.core.models import AuditEvent, AuditOutcome, Organization
from clinicflow.fhir.tests.conftest import FHIR_JSON, FhirClinic, fhir_json, outcome, post
from clinicflow.patients.models import Patient

pytestmark = pytest.mark.django_db
Fhir = Callable[[str], Client]


def test_reading_a_patient_returns_the_r4_patient_and_audits_the_access(
    clinic: FhirClinic, fhir: Fhir
) -> None:
    p = clinic.patient
    body = fhir_json(fhir("frontdesk").get(f"/fhir/r4/Patient/{p.pk}"), 200)
    assert body["id"] == str(p.pk)
    assert body["name"] == [
        {"use": "official", "text": "Ivanova Anna", "family": "Ivanova", "given": ["Anna"]}
    ]
    assert body["birthDate"] == "1990-05-17"
    assert body["gender"] == "unknown"
    assert body["telecom"] == [
        {"system": "phone", "value": "+79161234567", "use": "mobile", "rank": 1},
        {"system": "email", "value": "anna@example.org"},
    ]
    event = AuditEvent.objects.filter(organization=clinic.org, object_type="patient", action="view").get()
    assert event.object_id == str(p.pk)
    assert event.actor_email == "frontdesk@demo.test"
    assert "telecom" in event.fields


def test_a_marketer_reads_a_patient_without_contacts(clinic: FhirClinic, fhir: Fhir) -> None:
    body = fhir_json(fhir("marketer").get(f"/fhir/r4/Patient/{clinic.patient.pk}"), 200)
    assert "telecom" not in body
    assert body["name"][0]["family"] == "Ivanova"


def test_another_organisations_patient_is_404_and_shows_nothing(
    clinic: FhirClinic, fhir: Fhir, other_org: Organization
) -> None:
    theirs = make_patient(other_org, last_name="Wangsecret", phone="+8613912345678")
    response = fhir("owner").get(f"/fhir/r4/Patient/{theirs.pk}")
    assert outcome(response, 404) == "patient not found"
    assert b"Wangsecret" not in response.content
    assert outcome(fhir("owner").get("/fhir/r4/Patient/not-a-uuid"), 404) == "patient not found"
    found = fhir_json(fhir("owner").get("/fhir/r4/Patient", {"phone": "+8613912345678"}), 200)
    assert found["entry"] == []


def test_without_a_token_the_answer_is_401_with_an_operation_outcome(clinic: FhirClinic, users: Any) -> None:
    response = Client().get(f"/fhir/r4/Patient/{clinic.patient.pk}")
    assert outcome(response, 401).startswith("send Authorization: Bearer")
    assert response["WWW-Authenticate"] == 'Bearer realm="clinicflow-fhir"'
    bad = Client(HTTP_AUTHORIZATION="Bearer cf_wrong").get("/fhir/r4/Patient")
    assert outcome(bad, 401) == "missing, invalid or expired token"
    # a signed-in browser session is no credential here
    session = Client()
    session.force_login(users["owner"], backend="django.contrib.auth.backends.ModelBackend")
    assert session.get("/fhir/r4/Patient").status_code == 401


def test_search_by_phone_uses_the_e164_blind_index(clinic: FhirClinic, fhir: Fhir) -> None:
    make_patient(clinic.org, last_name="Other", phone="+79990000000")
    for phone in ("+79161234567", "+7 916 123-45-67"):
        body = fhir_json(fhir("frontdesk").get("/fhir/r4/Patient", {"phone": phone}), 200)
        assert body["type"] == "searchset"
        assert [e["resource"]["id"] for e in body["entry"]] == [str(clinic.patient.pk)]
        assert body["total"] == 1
    assert fhir_json(fhir("frontdesk").get("/fhir/r4/Patient", {"phone": "+79160000001"}), 200)["entry"] == []
    assert "E.164" in outcome(fhir("frontdesk").get("/fhir/r4/Patient", {"phone": "916"}), 400)
    listed = AuditEvent.objects.filter(organization=clinic.org, object_type="patient", action="list")
    assert listed.count() == 3
    assert listed.first().fields == ["phone"]  # type: ignore[union-attr]


def test_a_marketer_may_not_search_by_phone(clinic: FhirClinic, fhir: Fhir) -> None:
    response = fhir("marketer").get("/fhir/r4/Patient", {"phone": "+79161234567"})
    assert "patients.view_contacts" in outcome(response, 403)


def test_search_by_name_identifier_and_birthdate(clinic: FhirClinic, fhir: Fhir) -> None:
    older = make_patient(
        clinic.org, last_name="Smirnova", first_name="Olga", phone="", birth_date=dt.date(1970, 1, 2)
    )
    client = fhir("manager")

    def ids(**params: str) -> list[str]:
        body = fhir_json(client.get("/fhir/r4/Patient", params), 200)
        return [e["resource"]["id"] for e in body["entry"]]

    assert ids(name="smirnova") == [str(older.pk)]
    assert ids(identifier=f"urn:clinicflow:patient|{older.pk}") == [str(older.pk)]
    assert ids(identifier=str(clinic.patient.pk)) == [str(clinic.patient.pk)]
    assert ids(identifier="urn:other|x") == []
    assert ids(birthdate="1990-05-17") == [str(clinic.patient.pk)]
    assert ids(birthdate="1990") == [str(clinic.patient.pk)]
    assert ids(birthdate="lt1980-01-01") == [str(older.pk)]
    assert ids(birthdate="ge1970-01-02") == [str(clinic.patient.pk), str(older.pk)]
    assert ids(birthdate="gt1970-01-02") == [str(clinic.patient.pk)]
    assert ids(birthdate="le1970-01-02") == [str(older.pk)]
    assert ids(birthdate="ne1990-05-17") == [str(older.pk)]
    assert ids(name="olga", birthdate="ge1980-01-01") == []


def test_search_pages_with_count_and_next_links(clinic: FhirClinic, fhir: Fhir) -> None:
    for i in range(4):
        make_patient(clinic.org, last_name=f"Zed{i}", phone="")
    client = fhir("owner")
    first = fhir_json(client.get("/fhir/r4/Patient", {"_count": "2"}), 200)
    assert len(first["entry"]) == 2 and "total" not in first
    seen = [e["resource"]["id"] for e in first["entry"]]
    url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    while url:
        assert url.startswith("http://testserver/fhir/r4/Patient?")
        page = fhir_json(client.get(url.removeprefix("http://testserver")), 200)
        seen += [e["resource"]["id"] for e in page["entry"]]
        url = next((link["url"] for link in page["link"] if link["relation"] == "next"), "")
    assert page["total"] == 5
    assert len(seen) == 5 and len(set(seen)) == 5
    assert first["entry"][0]["fullUrl"] == f"http://testserver/fhir/r4/Patient/{seen[0]}"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"family": "x"}, "unsupported search parameter 'family'"),
        ({"name:exact": "x"}, "unsupported search parameter 'name:exact'"),
        ({"_count": "0"}, "_count must be a whole number from 1 to 100"),
        ({"_count": "1000"}, "_count must be a whole number from 1 to 100"),
        ({"birthdate": "yesterday"}, "birthdate: 'yesterday' is not a FHIR date or dateTime"),
    ],
)
def test_bad_search_parameters_are_400(
    clinic: FhirClinic, fhir: Fhir, params: dict[str, str], message: str
) -> None:
    assert outcome(fhir("owner").get("/fhir/r4/Patient", params), 400).startswith(message)


NEW_PATIENT = {
    "resourceType": "Patient",
    "identifier": [{"system": "urn:oid:1.2.3.4", "value": "MRN-77"}],
    "name": [{"family": "Chen", "given": ["Mei", "Lin"]}],
    "gender": "female",
    "birthDate": "1985-03-04",
    "telecom": [
        {"system": "phone", "value": "+8613800138000"},
        {"system": "email", "value": "mei@example.cn"},
    ],
    "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "zh"}]}}],
}


def test_creating_a_patient_stores_it_through_the_patients_service(clinic: FhirClinic, fhir: Fhir) -> None:
    response = post(fhir("frontdesk"), "/fhir/r4/Patient", NEW_PATIENT)
    body = fhir_json(response, 201)
    patient = Patient.objects.get(pk=body["id"])
    assert (patient.last_name, patient.first_name, patient.middle_name) == ("Chen", "Mei", "Lin")
    assert (patient.sex, patient.birth_date, patient.email) == ("F", dt.date(1985, 3, 4), "mei@example.cn")
    assert patient.preferred_language == "zh-hans"
    assert [p.e164 for p in patient.phones.all()] == ["+8613800138000"]
    assert response["Location"] == f"http://testserver/fhir/r4/Patient/{patient.pk}"
    assert {"system": "urn:oid:1.2.3.4", "value": "MRN-77"} in body["identifier"]
    assert AuditEvent.objects.filter(
        organization=clinic.org, action="create", object_id=str(patient.pk)
    ).exists()
    # the identifier finds it, and posting it again creates nobody
    found = fhir_json(
        fhir("frontdesk").get("/fhir/r4/Patient", {"identifier": "urn:oid:1.2.3.4|MRN-77"}), 200
    )
    assert [e["resource"]["id"] for e in found["entry"]] == [str(patient.pk)]
    again = fhir_json(post(fhir("frontdesk"), "/fhir/r4/Patient", NEW_PATIENT), 200)
    assert again["id"] == str(patient.pk)
    assert Patient.objects.filter(organization=clinic.org, last_name="Chen").count() == 1


@pytest.mark.parametrize(
    ("change", "status", "expression"),
    [
        ({"name": []}, 422, "Patient.name"),
        ({"birthDate": "17.05.1990"}, 422, "Patient.birthDate"),
        ({"gender": "x"}, 422, "Patient.gender"),
        ({"telecom": [{"system": "phone", "value": "not a phone"}]}, 422, "Patient.phones"),
        ({"resourceType": "Appointment"}, 422, "resourceType"),
    ],
)
def test_a_patient_clinicflow_cannot_store_is_refused_and_nothing_is_stored(
    clinic: FhirClinic, fhir: Fhir, change: dict[str, Any], status: int, expression: str
) -> None:
    before = Patient.objects.count()
    body = fhir_json(post(fhir("frontdesk"), "/fhir/r4/Patient", {**NEW_PATIENT, **change}), status)
    assert body["issue"][0]["expression"][0].startswith(expression)
    assert Patient.objects.count() == before


def test_create_refuses_other_media_types_and_bad_json(clinic: FhirClinic, fhir: Fhir) -> None:
    client = fhir("frontdesk")
    assert "application/fhir+json" in outcome(
        client.post("/fhir/r4/Patient", "<Patient/>", content_type="application/xml"), 415
    )
    assert (
        outcome(client.post("/fhir/r4/Patient", "{", content_type=FHIR_JSON), 400)
        == "the body is not valid JSON"
    )
    assert "resourceType" in outcome(client.post("/fhir/r4/Patient", "[]", content_type=FHIR_JSON), 400)


def test_a_role_that_may_not_edit_patients_gets_403_and_the_refusal_is_audited(
    clinic: FhirClinic, fhir: Fhir
) -> None:
    response = post(fhir("marketer"), "/fhir/r4/Patient", NEW_PATIENT)
    assert outcome(response, 403) == "your role may not do this (patients.edit)"
    denied = AuditEvent.objects.filter(organization=clinic.org, outcome=AuditOutcome.DENIED).get()
    assert denied.object_type == "patient"
    assert not Patient.objects.filter(last_name="Chen").exists()
