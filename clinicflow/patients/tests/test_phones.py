import pytest

from clinicflow.core.models import AuditEvent
from clinicflow.core.phones import InvalidPhone, normalize
from clinicflow.patients.models import Patient


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("8 (916) 123-45-67", "RU", "+79161234567"),
        ("+7 916 1234567", "RU", "+79161234567"),
        ("89161234567", "RU", "+79161234567"),
        ("+7 (495) 123-45-67", "DE", "+74951234567"),
        ("138 0013 8000", "CN", "+8613800138000"),
        ("+86 21 6123 4567", "RU", "+862161234567"),
        ("5123 4567", "EE", "+37251234567"),
        ("+372 5123 4567", "RU", "+37251234567"),
        ("030 12345678", "DE", "+493012345678"),
        ("0049 30 12345678", "RU", "+493012345678"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+1 415 555 2671", "CN", "+14155552671"),
    ],
)
def test_phones_are_normalised_to_e164_with_the_branch_region(raw: str, region: str, expected: str) -> None:
    assert normalize(raw, region) == expected


@pytest.mark.parametrize(
    "raw", ["", "abc", "12", "+7 916", "8 (916) 123-45-67-89-00-11", "x" * 100, "+999 123"]
)
def test_garbage_phones_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize(raw, "RU")


def test_api_refuses_a_garbage_phone_with_422_naming_the_field_and_stores_nothing(api, org) -> None:
    client = api("frontdesk")
    before_audit = AuditEvent.objects.count()
    response = client.post(
        "/api/v1/patients",
        {"last_name": "Petrova", "first_name": "Elena", "phones": ["+7 916 123-45-67", "call me maybe"]},
        content_type="application/json",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"]["code"] == "validation_error"
    assert "phones[1]" in body["error"]["fields"]
    assert "call me maybe" in body["error"]["fields"]["phones[1]"][0]
    assert Patient.objects.count() == 0
    assert AuditEvent.objects.count() == before_audit


def test_search_finds_the_same_patient_by_phone_in_any_format(api, org) -> None:
    created = api("frontdesk").post(
        "/api/v1/patients",
        {"last_name": "Ivanova", "first_name": "Anna", "phones": ["8 (916) 123-45-67"]},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["phones"] == [
        {"e164": "+79161234567", "display": "+7 916 123-45-67", "is_primary": True}
    ]
    for query in ["8 (916) 123-45-67", "+7 916 1234567", "+79161234567", "9161234567"]:
        found = api("frontdesk").get("/api/v1/patients", {"q": query}).json()
        assert [p["id"] for p in found["items"]] == [created.json()["id"]], query
