"""Data-subject rights over the REST API: each right logs a request with its deadline and status,
permissions, 422 naming the field, tenant isolation, audit, the OpenAPI document."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from clinicflow.accounts.models import User
from clinicflow.core.models import AuditEvent, Branch, Organization
from clinicflow.messaging.models import Message, Status
from clinicflow.patients.models import Patient, PatientPhone
from clinicflow.privacy.models import RequestKind, RequestStatus, SubjectRequest
from clinicflow.privacy.rights.correct import granted_purposes
from clinicflow.privacy.tests.rights_world import EMAIL, NAME, seed

pytestmark = pytest.mark.django_db
BASE = "/api/v1/privacy/requests"


def _post(client: Client, right: str, body: dict[str, Any]) -> Any:
    return client.post(f"{BASE}/{right}", json.dumps(body), content_type="application/json")


@pytest.fixture
def patient(org: Organization, branch: Branch, users: dict[str, User]) -> Patient:
    return seed(org, branch, users["owner"])


def test_access_returns_everything_held_and_logs_a_closed_request(
    api: Callable[[str], Client], org: Organization, patient: Patient, users: dict[str, User]
) -> None:
    response = _post(api("manager"), "access", {"patient_id": str(patient.pk)})
    assert response.status_code == 201
    body = response.json()
    assert body["data"]["patient"]["last_name"] == NAME
    assert body["data"]["patient"]["email"] == EMAIL
    assert len(body["data"]["records"]["booking.Appointment"]) == 1
    row = SubjectRequest.objects.for_org(org).get()
    assert (row.kind, row.status, str(row.pk)) == (
        RequestKind.EXPORT,
        RequestStatus.DONE,
        body["request"]["id"],
    )
    assert body["request"]["due_at"] > body["request"]["received_at"]
    audit = AuditEvent.objects.for_org(org).get(object_type="patient", action="export")
    assert (audit.actor_id, audit.object_id) == (users["manager"].pk, str(patient.pk))


def test_export_is_a_zip_with_the_json_and_the_pdf(
    api: Callable[[str], Client], org: Organization, patient: Patient
) -> None:
    response = _post(api("owner"), "export", {"patient_id": str(patient.pk)})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert {"export.json", "summary.pdf"} <= set(names)
    row = SubjectRequest.objects.for_org(org).get(pk=response["X-Subject-Request"])
    assert row.status == RequestStatus.DONE


def test_rectification_changes_the_card_and_a_bad_field_gets_422(
    api: Callable[[str], Client], org: Organization, patient: Patient
) -> None:
    client = api("manager")
    response = _post(client, "rectification", {"patient_id": str(patient.pk), "first_name": "Uliana"})
    assert response.status_code == 201, response.content
    assert response.json()["outcome"] == {"fields": ["first_name"]}
    patient.refresh_from_db()
    assert patient.first_name == "Uliana"
    bad = _post(client, "rectification", {"patient_id": str(patient.pk), "email": "not an address"})
    assert bad.status_code == 422
    assert list(bad.json()["error"]["fields"]) == ["email"]
    empty = _post(client, "rectification", {"patient_id": str(patient.pk)})
    assert empty.status_code == 422
    assert SubjectRequest.objects.for_org(org).count() == 1  # the refused ones logged nothing


def test_erasure_needs_confirmation_then_pseudonymises_and_says_what_is_held(
    api: Callable[[str], Client], org: Organization, patient: Patient
) -> None:
    client = api("owner")
    refused = _post(client, "erasure", {"patient_id": str(patient.pk)})
    assert refused.status_code == 422
    assert list(refused.json()["error"]["fields"]) == ["confirm"]
    assert Patient.objects.get(pk=patient.pk).last_name == NAME
    response = _post(client, "erasure", {"patient_id": str(patient.pk), "confirm": True})
    assert response.status_code == 201
    outcome = response.json()["outcome"]
    assert {h["records"] for h in outcome["held"]} >= {"booking.Appointment", "booking.Payment"}
    assert Patient.objects.get(pk=patient.pk).last_name == "Erased"
    assert not PatientPhone.objects.for_org(org).filter(patient=patient).exists()


def test_restriction_stops_marketing_at_once_and_keeps_the_records(
    api: Callable[[str], Client], org: Organization, patient: Patient
) -> None:
    assert "marketing_sms" in granted_purposes(org, patient)
    response = _post(api("manager"), "restriction", {"patient_id": str(patient.pk), "reason": "contests"})
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["status"]) == ("restriction", "done")
    assert body["outcome"]["withdrawn"] == ["marketing_sms"]
    assert granted_purposes(org, patient) == ["health_data"]  # treatment's basis is kept
    assert Message.objects.for_org(org).get(patient=patient).status == Status.CANCELLED
    assert Patient.objects.get(pk=patient.pk).last_name == NAME


def test_withdrawal_of_an_unknown_purpose_is_422(
    api: Callable[[str], Client], org: Organization, patient: Patient
) -> None:
    response = _post(api("owner"), "withdrawal", {"patient_id": str(patient.pk), "purposes": ["gossip"]})
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["purposes"]
    ok = _post(api("owner"), "withdrawal", {"patient_id": str(patient.pk), "purposes": ["marketing_sms"]})
    assert ok.status_code == 201 and ok.json()["outcome"] == {"withdrawn": ["marketing_sms"]}


def test_the_log_lists_and_filters_requests_with_their_status(
    api: Callable[[str], Client], org: Organization, patient: Patient
) -> None:
    client = api("owner")
    made = _post(client, "restriction", {"patient_id": str(patient.pk)}).json()
    _post(client, "access", {"patient_id": str(patient.pk)})
    rows = client.get(BASE).json()
    assert [r["kind"] for r in rows] == ["export", "restriction"]
    assert [r["id"] for r in client.get(BASE, {"kind": "restriction"}).json()] == [made["id"]]
    assert len(client.get(BASE, {"patient_id": str(patient.pk), "status": "done"}).json()) == 2
    assert client.get(BASE, {"status": "lost"}).status_code == 422
    detail = client.get(f"{BASE}/{made['id']}").json()
    assert (detail["status"], detail["overdue"]) == ("done", False)


@pytest.mark.parametrize("role", ["marketer", "frontdesk", "doctor"])
def test_other_roles_get_403_and_nothing_happens(
    api: Callable[[str], Client], org: Organization, patient: Patient, role: str
) -> None:
    client = api(role)
    assert client.get(BASE).status_code == 403
    for right, extra in (("access", {}), ("erasure", {"confirm": True}), ("restriction", {})):
        assert _post(client, right, {"patient_id": str(patient.pk), **extra}).status_code == 403
    assert not SubjectRequest.objects.for_org(org).exists()
    assert Patient.objects.get(pk=patient.pk).last_name == NAME
    assert AuditEvent.objects.for_org(org).filter(outcome="denied", object_type="subject_request").exists()


def test_another_organisations_patient_and_requests_are_404(
    api: Callable[[str], Client],
    org: Organization,
    other_org: Organization,
    other_branch: Branch,
    users: dict[str, User],
) -> None:
    theirs = seed(other_org, other_branch, users["outsider"], 5)
    client = api("owner")
    for right, extra in (("access", {}), ("erasure", {"confirm": True}), ("restriction", {})):
        assert _post(client, right, {"patient_id": str(theirs.pk), **extra}).status_code == 404
    assert Patient.objects.get(pk=theirs.pk).last_name == theirs.last_name
    row = _post(api("outsider"), "restriction", {"patient_id": str(theirs.pk)}).json()
    assert client.get(f"{BASE}/{row['id']}").status_code == 404
    assert client.get(BASE).json() == []
    assert not SubjectRequest.objects.for_org(org).exists()


def test_the_rights_endpoints_are_in_the_openapi_document(api: Callable[[str], Client]) -> None:
    paths = api("owner").get("/api/v1/openapi.json").json()["paths"]
    for right in ("access", "export", "rectification", "erasure", "restriction", "withdrawal"):
        assert "post" in paths[f"{BASE}/{right}"], right
    assert "get" in paths[BASE] and "get" in paths[BASE + "/{request_id}"]
    assert "confirm" in json.dumps(paths[f"{BASE}/erasure"])
