"""Patient pages: list and search, card, create and edit, per role and per organisation."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinicflow.core.models import AuditEvent
from clinicflow.patients.models import Patient
from clinicflow.patients.tests.factories import make_patient

XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture
def patient(org, branch):
    return make_patient(org, branch=branch, email="anna@example.ru", clinical_notes="Filler 1ml nasolabial")


def test_list_search_by_phone_in_another_format_finds_the_patient(web, patient) -> None:
    response = web("frontdesk").get("/patients/", {"q": "+7 916 1234567"})
    assert response.status_code == 200
    assert b"Ivanova Anna" in response.content
    assert b"+79161234567" in response.content
    assert web("frontdesk").get("/patients/", {"q": "+7 916 0000000"}).content.count(b"Ivanova Anna") == 0


def test_list_search_by_name_part(web, org, patient) -> None:
    make_patient(org, last_name="Petrova", first_name="Elena", phones=["+7 903 555 12 34"])
    content = web("owner").get("/patients/", {"q": "petro"}).content
    assert b"Petrova Elena" in content and b"Ivanova Anna" not in content


def test_marketer_list_has_no_contacts_and_card_has_no_clinical_notes(web, patient) -> None:
    listing = web("marketer").get("/patients/").content
    assert b"Ivanova Anna" in listing and b"+79161234567" not in listing
    card = web("marketer").get(f"/patients/{patient.pk}/").content
    assert b"Filler 1ml" not in card and b"anna@example.ru" not in card
    front = web("frontdesk").get(f"/patients/{patient.pk}/").content
    assert b"Filler 1ml" not in front and b"anna@example.ru" in front
    assert b"Filler 1ml" in web("doctor").get(f"/patients/{patient.pk}/").content


def test_another_organisations_card_and_edit_page_are_404(web, users, patient) -> None:
    for url in [f"/patients/{patient.pk}/", f"/patients/{patient.pk}/edit/"]:
        response = web("outsider").get(url)
        assert response.status_code == 404
        assert b"Ivanova" not in response.content
    response = web("outsider").post(f"/patients/{patient.pk}/edit/", {"last_name": "X", "first_name": "Y"})
    assert response.status_code == 404
    patient.refresh_from_db()
    assert patient.last_name == "Ivanova"


def test_create_page_stores_a_patient_with_e164_phone(web, branch) -> None:
    response = web("frontdesk").post(
        "/patients/new/",
        {
            "last_name": "Sidorova",
            "first_name": "Maria",
            "sex": "F",
            "phones": "8 (903) 555-12-34",
            "preferred_language": "ru",
            "source": "referral",
            "branch": str(branch.pk),
        },
    )
    assert response.status_code == 302
    created = Patient.objects.get(last_name="Sidorova")
    assert list(created.phones.values_list("e164", flat=True)) == ["+79035551234"]
    assert response["Location"] == f"/patients/{created.pk}/"


def test_create_page_with_a_bad_phone_shows_the_error_and_stores_nothing(web) -> None:
    response = web("frontdesk").post(
        "/patients/new/",
        {
            "last_name": "Sidorova",
            "first_name": "Maria",
            "sex": "F",
            "phones": "12-34",
            "preferred_language": "ru",
            "source": "referral",
        },
    )
    assert response.status_code == 422
    assert b"is not" in response.content
    assert Patient.objects.count() == 0


def test_marketer_cannot_open_the_create_page_and_the_denial_is_not_a_change(web, users) -> None:
    assert web("marketer").get("/patients/new/").status_code == 403
    assert web("marketer").post("/patients/new/", {"last_name": "X", "first_name": "Y"}).status_code == 403
    assert Patient.objects.count() == 0


def test_edit_page_updates_and_audits_field_names_only(web, patient) -> None:
    response = web("doctor").post(
        f"/patients/{patient.pk}/edit/",
        {
            "last_name": "Ivanova",
            "first_name": "Anna",
            "sex": "F",
            "phones": "+79161234567",
            "preferred_language": "en",
            "source": "other",
            "clinical_notes": "secret new note",
            "birth_date": "1990-05-17",
            "email": "anna@example.ru",
            "branch": str(patient.branch_id),
        },
    )
    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.sex, patient.clinical_notes) == ("F", "secret new note")
    event = AuditEvent.objects.filter(action="update", object_id=str(patient.pk)).latest("seq")
    assert event.fields == ["clinical_notes", "sex"]
    assert not AuditEvent.objects.filter(fields__icontains="secret new note").exists()


def test_free_text_is_escaped_on_pages(web, org) -> None:
    p = make_patient(org, last_name=XSS, first_name="X", notes=XSS)
    content = web("owner").get(f"/patients/{p.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_post_without_csrf_token_is_refused(users, patient) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["owner"], backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(f"/patients/{patient.pk}/edit/", {"last_name": "X", "first_name": "Y"})
    assert response.status_code == 403
    patient.refresh_from_db()
    assert patient.last_name == "Ivanova"


def test_list_page_query_count_does_not_grow_with_patients(web, org) -> None:
    client = web("owner")
    for i in range(3):
        make_patient(org, last_name=f"A{i}", phones=[f"+7 916 100-00-0{i}"])
    client.get("/patients/")
    with CaptureQueriesContext(connection) as few:
        client.get("/patients/")
    for i in range(3, 30):
        make_patient(org, last_name=f"A{i}", phones=[f"+7 916 100-00-{i:02d}"])
    with CaptureQueriesContext(connection) as many:
        assert client.get("/patients/").status_code == 200
    assert len(many) == len(few)
    assert len(many) <= 16


def test_a_page_denied_by_role_writes_a_denied_audit_row(web, patient) -> None:
    client = web("marketer")
    before = AuditEvent.objects.count()
    assert client.get(f"/patients/{patient.pk}/edit/").status_code == 403
    row = AuditEvent.objects.latest("seq")
    assert AuditEvent.objects.count() == before + 1
    assert (row.outcome, row.object_id, row.role) == ("denied", str(patient.pk), "marketer")


def test_create_page_prefills_the_phone_of_a_new_lead(web) -> None:
    response = web("frontdesk").get("/patients/new/", {"phone": "+79031234567"})
    assert 'value="+79031234567"' in response.content.decode()


def test_merge_page_merges_the_named_duplicate_and_refuses_a_malformed_id(web, org, patient) -> None:
    twin = make_patient(org, last_name="Ivanova", first_name="Anna", phones=["+7 916 123 45 67"])
    client = web("manager")
    refused = client.post(f"/patients/{patient.pk}/merge/", {"merge_id": "not-a-uuid"})
    assert refused.status_code == 302
    twin.refresh_from_db()
    assert twin.merged_into_id is None  # nothing changed

    merged = client.post(f"/patients/{patient.pk}/merge/", {"merge_id": str(twin.pk)})
    assert merged.status_code == 302
    twin.refresh_from_db()
    assert twin.merged_into_id == patient.pk


@pytest.mark.parametrize("q", ["+7 916 1234567", "anna@example.ru", "ANNA@EXAMPLE.RU"])
def test_marketer_list_search_by_phone_or_email_searches_names_only(web, patient, q) -> None:
    marketer = web("marketer").get("/patients/", {"q": q})
    assert marketer.status_code == 200
    assert b"Ivanova Anna" not in marketer.content
    assert b"Ivanova Anna" in web("frontdesk").get("/patients/", {"q": q}).content


def test_marketer_list_search_by_name_still_finds_the_patient(web, patient) -> None:
    assert b"Ivanova Anna" in web("marketer").get("/patients/", {"q": "ivanova"}).content
