"""Patients API: roles, field-level rules, tenancy, validation, merge, consents."""

from __future__ import annotations

import pytest

from clinicflow.core.models import AuditEvent
from clinicflow.patients.models import ConsentEvent, Patient, PatientPhone
from clinicflow.patients.tests.factories import make_patient

CLINICAL = "Botulinum 50U glabella; mild ptosis history"


@pytest.fixture
def patient(org, branch):
    return make_patient(
        org, branch=branch, email="anna@example.ru", notes="prefers mornings", clinical_notes=CLINICAL
    )


@pytest.fixture
def foreign_patient(other_org):
    return make_patient(
        other_org,
        last_name="Chen",
        first_name="Mei",
        phones=["139 1234 5678"],
        email="mei@example.cn",
        clinical_notes="Other clinic secret",
    )


@pytest.mark.parametrize(
    ("role", "contacts", "clinical"),
    [
        ("owner", True, True),
        ("manager", True, True),
        ("doctor", True, True),
        ("frontdesk", True, False),
        ("marketer", False, False),
    ],
)
def test_each_role_sees_exactly_its_fields(api, users, patient, role, contacts, clinical) -> None:
    response = api(role).get(f"/api/v1/patients/{patient.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["last_name"] == "Ivanova"
    assert ("phones" in body) is contacts
    assert ("email" in body) is contacts
    assert ("notes" in body) is contacts
    assert ("clinical_notes" in body) is clinical
    if not clinical:
        assert CLINICAL not in response.content.decode()
    listed = api(role).get("/api/v1/patients").json()["items"][0]
    assert ("clinical_notes" in listed) is clinical
    assert ("phones" in listed) is contacts


@pytest.mark.parametrize(
    ("role", "method", "path", "expected"),
    [
        ("marketer", "post", "/api/v1/patients", 403),
        ("frontdesk", "post", "/api/v1/patients", 201),
        ("doctor", "post", "/api/v1/patients", 201),
        ("frontdesk", "get", "/api/v1/patients/{id}/duplicates", 403),
        ("manager", "get", "/api/v1/patients/{id}/duplicates", 200),
        ("marketer", "get", "/api/v1/patients/{id}/consents", 403),
        ("frontdesk", "get", "/api/v1/patients/{id}/consents", 200),
        ("marketer", "patch", "/api/v1/patients/{id}", 403),
        ("frontdesk", "patch", "/api/v1/patients/{id}", 200),
    ],
)
def test_role_matrix_for_patient_endpoints(api, users, patient, role, method, path, expected) -> None:
    client = api(role)
    url = path.format(id=patient.pk)
    kwargs = {"content_type": "application/json"}
    if method == "post":
        response = client.post(url, {"last_name": "New", "first_name": "One"}, **kwargs)
    elif method == "patch":
        response = client.patch(url, {"first_name": "Anya"}, **kwargs)
    else:
        response = client.get(url)
    assert response.status_code == expected
    if expected == 403:
        assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/patients/{id}"),
        ("patch", "/api/v1/patients/{id}"),
        ("get", "/api/v1/patients/{id}/duplicates"),
        ("get", "/api/v1/patients/{id}/consents"),
        ("post", "/api/v1/patients/{id}/consents"),
        ("post", "/api/v1/patients/{id}/merge"),
    ],
)
def test_another_organisations_patient_is_404_and_leaks_nothing(
    api, users, patient, foreign_patient, method, path
) -> None:
    client = api("outsider")
    url = path.format(id=patient.pk)
    payloads = {
        "patch": {"first_name": "Hacked"},
        "post": {
            "purpose": "marketing_sms",
            "granted": True,
            "method": "web_form",
            "merge_id": str(patient.pk),
        },
    }
    if method == "get":
        response = client.get(url)
    else:
        response = getattr(client, method)(url, payloads[method], content_type="application/json")
    assert response.status_code == 404
    text = response.content.decode()
    assert "Ivanova" not in text and "+7916" not in text and str(patient.branch_id) not in text
    patient.refresh_from_db()
    assert patient.first_name == "Anna"
    assert ConsentEvent.objects.filter(patient=patient).count() == 0


def test_search_never_returns_another_organisations_patients(api, users, patient, foreign_patient) -> None:
    body = api("outsider").get("/api/v1/patients", {"q": "+7 916 123-45-67"}).json()
    assert body["count"] == 0
    body = api("owner").get("/api/v1/patients", {"q": "139 1234 5678"}).json()
    assert body["count"] == 0
    assert api("owner").get("/api/v1/patients").json()["count"] == 1


@pytest.mark.parametrize("q", ["+7 916 123-45-67", "9161234567", "anna@example.ru"])
def test_marketer_api_search_by_phone_or_email_searches_names_only(api, users, patient, q) -> None:
    marketer = api("marketer").get("/api/v1/patients", {"q": q})
    assert marketer.status_code == 200
    assert (marketer.json()["count"], marketer.json()["items"]) == (0, [])
    assert api("frontdesk").get("/api/v1/patients", {"q": q}).json()["count"] == 1


def test_marketer_api_search_by_name_still_finds_the_patient(api, users, patient) -> None:
    body = api("marketer").get("/api/v1/patients", {"q": "Ivanova"}).json()
    assert [item["id"] for item in body["items"]] == [str(patient.pk)]


def test_mass_assignment_of_organisation_and_ids_is_ignored(api, users, org, other_org) -> None:
    response = api("frontdesk").post(
        "/api/v1/patients",
        {
            "last_name": "Petrova",
            "first_name": "Elena",
            "organization": str(other_org.pk),
            "id": "x",
            "is_staff": True,
            "merged_into": "y",
            "created_by": "z",
        },
        content_type="application/json",
    )
    assert response.status_code == 201
    created = Patient.objects.get(pk=response.json()["id"])
    assert created.organization_id == org.pk
    assert created.merged_into_id is None
    assert Patient.objects.filter(organization=other_org).count() == 0


def test_frontdesk_cannot_write_clinical_notes(api, users, patient) -> None:
    response = api("frontdesk").patch(
        f"/api/v1/patients/{patient.pk}", {"clinical_notes": "overwrite"}, content_type="application/json"
    )
    assert response.status_code == 403
    patient.refresh_from_db()
    assert patient.clinical_notes == CLINICAL


def test_validation_errors_name_the_field_and_store_nothing(api, users, patient) -> None:
    client = api("owner")
    for payload, field in [
        ({"email": "not-an-email"}, "email"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "yesterday"}, "birth_date"),
        ({"sex": "Q"}, "sex"),
        ({"last_name": ""}, "last_name"),
        ({"last_name": "x" * 101}, "last_name"),
        ({"branch": "00000000-0000-0000-0000-000000000000"}, "branch"),
        ({"phones": ["+7 916 000"]}, "phones"),
    ]:
        response = client.patch(f"/api/v1/patients/{patient.pk}", payload, content_type="application/json")
        assert response.status_code == 422, payload
        assert field in response.json()["error"]["fields"], (payload, response.json())
    patient.refresh_from_db()
    assert (patient.last_name, patient.email, patient.sex) == ("Ivanova", "anna@example.ru", "U")
    assert list(patient.phones.values_list("e164", flat=True)) == ["+79161234567"]


@pytest.mark.parametrize(
    "query",
    [
        "sort=name;DROP TABLE x",
        "sort=__class__",
        "limit=-1",
        "limit=100000",
        "offset=-5",
        "branch=' OR 1=1",
        "source=<script>",
        "sex=%00",
        "limit=abc",
    ],
)
def test_junk_query_parameters_are_4xx_never_500(api, users, patient, query) -> None:
    response = api("owner").get(f"/api/v1/patients?{query}")
    assert 400 <= response.status_code < 500
    assert "error" in response.json()


def test_wrong_content_type_and_bad_json_are_4xx(api, users) -> None:
    client = api("owner")
    assert client.post("/api/v1/patients", "last_name=X", content_type="text/plain").status_code == 415
    assert client.post("/api/v1/patients", "{not json", content_type="application/json").status_code in (
        400,
        422,
    )
    assert client.generic("TRACE", "/api/v1/patients").status_code == 405
    assert Patient.objects.count() == 0


def test_viewing_and_editing_a_patient_write_audit_rows(api, users, patient) -> None:
    client = api("doctor")
    AuditEvent.objects.all()  # the chain so far
    before = AuditEvent.objects.count()
    client.get(f"/api/v1/patients/{patient.pk}", HTTP_USER_AGENT="pytest-agent")
    view = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert (view.action, view.object_type, view.object_id, view.outcome) == (
        "view",
        "patient",
        str(patient.pk),
        "ok",
    )
    assert (view.actor_email, view.role, view.user_agent, view.ip) == (
        "doctor@demo.test",
        "doctor",
        "pytest-agent",
        "127.0.0.1",
    )
    assert "clinical_notes" in view.fields
    client.patch(
        f"/api/v1/patients/{patient.pk}",
        {"clinical_notes": "new text", "first_name": "Anya"},
        content_type="application/json",
    )
    edit = AuditEvent.objects.order_by("-seq").first()
    assert (edit.action, edit.fields) == ("update", ["clinical_notes", "first_name"])
    assert "new text" not in edit.canonical() and CLINICAL not in edit.canonical()


def test_a_denied_attempt_is_audited(api, users, patient) -> None:
    client = api("marketer")
    before = AuditEvent.objects.count()
    response = client.patch(
        f"/api/v1/patients/{patient.pk}", {"first_name": "X"}, content_type="application/json"
    )
    assert response.status_code == 403
    denied = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert (denied.outcome, denied.role, denied.object_type) == ("denied", "marketer", "patient")


def test_duplicates_and_merge_move_phones_and_consents(api, users, org, patient) -> None:
    twin = make_patient(
        org, last_name="Ivanova", first_name="Anya", phones=["+7 916 123 45 67", "+7 903 555 12 34"]
    )
    client = api("manager")
    client.post(
        f"/api/v1/patients/{twin.pk}/consents",
        {"purpose": "marketing_sms", "granted": True, "method": "web_form"},
        content_type="application/json",
    )
    dups = client.get(f"/api/v1/patients/{patient.pk}/duplicates").json()
    assert [d["id"] for d in dups] == [str(twin.pk)]
    merged = client.post(
        f"/api/v1/patients/{patient.pk}/merge", {"merge_id": str(twin.pk)}, content_type="application/json"
    )
    assert merged.status_code == 200
    assert sorted(p["e164"] for p in merged.json()["phones"]) == ["+79035551234", "+79161234567"]
    twin.refresh_from_db()
    assert twin.merged_into_id == patient.pk
    assert ConsentEvent.objects.filter(patient=patient, purpose="marketing_sms").count() == 1
    assert PatientPhone.objects.filter(patient=twin).count() == 0
    again = client.post(
        f"/api/v1/patients/{patient.pk}/merge", {"merge_id": str(twin.pk)}, content_type="application/json"
    )
    assert again.status_code == 409
    assert client.get("/api/v1/patients").json()["count"] == 1


def test_openapi_document_is_served(api, users) -> None:
    doc = api("owner").get("/api/v1/openapi.json").json()
    assert "/api/v1/patients" in doc["paths"]
    assert "/api/v1/auth/token" in doc["paths"]
