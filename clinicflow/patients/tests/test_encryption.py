"""CR-03: patients' phones, e-mail, notes and consent evidence are encrypted in the table; phones and
e-mail are still found by the whole value (blind index) through every path that looks them up."""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import io
import json
from typing import Any

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.test import Client

from clinicflow.acquisition import ingestion
from clinicflow.acquisition.integrations import services as integrations
from clinicflow.acquisition.models import Call
from clinicflow.booking.models import CodeChannel
from clinicflow.booking.services import public
from clinicflow.core import crypto
from clinicflow.core.models import Organization
from clinicflow.patients import selectors
from clinicflow.patients.models import ConsentEvent, ConsentMethod, ConsentPurpose, Patient, PatientPhone
from clinicflow.patients.selectors import PatientFilters, patient_list
from clinicflow.patients.services import consent_record
from clinicflow.patients.tests.factories import make_patient
from clinicflow.simulator.writers.bulk import BulkWriter

PHONE = "+79161234567"
NOTE = "allergic to lidocaine"


def _raw(table: str, columns: str, pk: Any) -> tuple[Any, ...]:
    with connection.cursor() as cur:
        pk_db = pk.hex if not connection.features.has_native_uuid_field else pk
        cur.execute(f'SELECT {columns} FROM "{table}" WHERE "id" = %s', [pk_db])
        row = cur.fetchone()
    assert row is not None
    return tuple(row)


def _raw_set(table: str, column: str, value: str, pk: Any) -> None:
    with connection.cursor() as cur:
        pk_db = pk.hex if not connection.features.has_native_uuid_field else pk
        cur.execute(f'UPDATE "{table}" SET "{column}" = %s WHERE "id" = %s', [value, pk_db])


def _key(byte: int) -> str:
    return base64.b64encode(bytes([byte]) * 32).decode()


@pytest.fixture
def anna(org: Organization) -> Patient:
    return make_patient(org, email="Anna@Example.ru", notes="prefers mornings", clinical_notes=NOTE)


def test_the_table_holds_no_plaintext_phone_email_or_notes(org: Organization, anna: Patient) -> None:
    consent_record(
        org=org,
        actor=None,
        patient=anna,
        purpose=ConsentPurpose.HEALTH_DATA,
        granted=True,
        method=ConsentMethod.WRITTEN,
        evidence="scan 2025-03-03 signed by Anna Ivanova",
    )
    email, notes, clinical, email_index = _raw(
        "patients_patient", '"email", "notes", "clinical_notes", "email_index"', anna.pk
    )
    phone = PatientPhone.objects.for_org(org).get(patient=anna)
    e164, e164_index = _raw("patients_patientphone", '"e164", "e164_index"', phone.pk)
    evidence = _raw("patients_consentevent", '"evidence"', ConsentEvent.objects.for_org(org).get().pk)[0]
    stored = " ".join([email, notes, clinical, email_index, e164, e164_index, evidence])
    for plain in (
        "anna@example.ru",
        "example",
        "9161234567",
        "1234567",
        "lidocaine",
        "mornings",
        "scan",
        "Ivanova",
    ):
        assert plain not in stored.lower()
    assert all(v.startswith("v1:dev:") for v in (email, notes, clinical, e164, evidence))
    # ORM reads stay transparent, the stored e-mail lower-cased by the service
    fresh = Patient.objects.for_org(org).get(pk=anna.pk)
    assert (fresh.email, fresh.notes, fresh.clinical_notes) == ("anna@example.ru", "prefers mornings", NOTE)
    assert list(PatientPhone.objects.for_org(org).values_list("e164", flat=True)) == [PHONE]
    assert ConsentEvent.objects.for_org(org).get().evidence == "scan 2025-03-03 signed by Anna Ivanova"


def test_one_tampered_byte_makes_the_read_fail_with_a_clear_error(org: Organization, anna: Patient) -> None:
    stored = _raw("patients_patient", '"clinical_notes"', anna.pk)[0]
    head, body = stored.rsplit(":", 1)
    raw = bytearray(crypto._b64decode(body))
    raw[20] ^= 0x01
    _raw_set(
        "patients_patient", "clinical_notes", f"{head}:{base64.urlsafe_b64encode(raw).decode()}", anna.pk
    )
    with pytest.raises(
        crypto.DecryptionError, match=r"patients_patient\.clinical_notes: authentication failed"
    ):
        Patient.objects.for_org(org).get(pk=anna.pk)


def test_a_ciphertext_pasted_into_another_column_does_not_decrypt(org: Organization, anna: Patient) -> None:
    email = _raw("patients_patient", '"email"', anna.pk)[0]
    _raw_set("patients_patient", "notes", email, anna.pk)
    with pytest.raises(crypto.DecryptionError, match=r"patients_patient\.notes: authentication failed"):
        Patient.objects.for_org(org).get(pk=anna.pk)
    phone = PatientPhone.objects.for_org(org).get(patient=anna)
    _raw_set("patients_patientphone", "e164", email, phone.pk)
    with pytest.raises(crypto.DecryptionError, match=r"patients_patientphone\.e164"):
        list(PatientPhone.objects.for_org(org).values_list("e164", flat=True))


def test_filtering_on_an_encrypted_column_is_refused(org: Organization) -> None:
    with pytest.raises(FieldError, match=r"PatientPhone\.e164 is encrypted"):
        list(PatientPhone.objects.for_org(org).filter(e164=PHONE))
    with pytest.raises(FieldError, match=r"Patient\.email is encrypted"):
        list(Patient.objects.for_org(org).filter(email__iexact="anna@example.ru"))


def test_search_finds_a_whole_number_or_address_never_a_fragment(org: Organization, anna: Patient) -> None:
    def found(q: str) -> list[Patient]:
        return list(patient_list(org=org, filters=PatientFilters(q=q, search_contacts=True)))

    assert found("8 (916) 123-45-67") == [anna]
    assert found("ANNA@example.RU ") == [anna]
    assert found("91612") == []
    assert found("anna@example") == []


def test_lookups_are_per_organisation(org: Organization, other_org: Organization, anna: Patient) -> None:
    twin = make_patient(other_org, phones=[PHONE], email="anna@example.ru")
    assert selectors.patient_find_by_phone(org=org, e164=PHONE) == [anna]
    assert selectors.patient_find_by_phone(org=other_org, e164=PHONE) == [twin]
    assert twin.email_index != anna.email_index
    dupes = selectors.patient_duplicates(org=org, phones=[PHONE], email="ANNA@example.ru", exclude_id=anna.pk)
    assert dupes == []


def test_a_call_from_the_patients_number_is_linked_through_the_webhook(
    org: Organization, anna: Patient
) -> None:
    ingestion.clear_caches()
    _, secret = integrations.integration_create(org=org, actor=None, provider="generic", signing_key="")
    body = {
        "call_id": "enc-1",
        "event": "completed",
        "caller": "8 916 123-45-67",
        "called": "+74951000001",
        "started_at": dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC).isoformat(),
        "duration": 42,
    }
    response = Client().post(
        integrations.webhook_path("generic", secret), data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert Call.objects.for_org(org).get(provider_call_id="enc-1").patient_id == anna.pk


def test_public_booking_matches_the_patient_by_the_verified_phone_and_email(
    org: Organization, branch: Any, anna: Patient
) -> None:
    by_sms = public.Contact(first_name="A", last_name="I", phone=PHONE, email="", channel=CodeChannel.SMS)
    by_email = public.Contact(
        first_name="A", last_name="I", phone="", email="anna@example.ru", channel=CodeChannel.EMAIL
    )
    for contact in (by_sms, by_email):
        found = public.patient_find_or_create(org=org, branch=branch, contact=contact, language="en")
        assert found.pk == anna.pk
    assert Patient.objects.for_org(org).count() == 1


def test_bulk_created_phones_are_found(org: Organization, anna: Patient) -> None:
    other = make_patient(org, phones=[], first_name="Olga")
    PatientPhone.objects.bulk_create([PatientPhone(organization=org, patient=other, e164="+79160000001")])
    assert selectors.patient_find_by_phone(org=org, e164="+79160000001") == [other]
    # the simulator's writer (binary COPY on PostgreSQL, executemany on SQLite) seals and indexes too
    third = make_patient(org, phones=[], first_name="Vera")
    BulkWriter(PatientPhone, now=0, org_id=org.pk).write(
        {"id": [crypto.uuid.uuid4()], "patient": [third.pk], "e164": ["+79160000002"], "kind": "mobile"}
    )
    assert selectors.patient_find_by_phone(org=org, e164="+79160000002") == [third]
    stored = PatientPhone.objects.for_org(org).filter(patient=third).values_list("e164", flat=True)
    assert list(stored) == ["+79160000002"]


def test_blind_indexes_follow_every_orm_write(org: Organization, anna: Patient) -> None:
    anna.email = "new@example.ru"
    anna.save(update_fields=["email"])
    assert selectors.patient_duplicates(org=org, phones=[], email="new@example.ru") == [anna]
    phone = PatientPhone.objects.for_org(org).get(patient=anna)
    phone.e164 = "+79165554433"
    PatientPhone.objects.bulk_update([phone], ["e164"])
    assert selectors.patient_find_by_phone(org=org, e164="+79165554433") == [anna]
    with pytest.raises(TypeError, match=r"must also set e164_index"):
        PatientPhone.objects.for_org(org).update(e164="+79160000000")


def _ring(settings: Any, spec: str) -> None:
    settings.FIELD_ENCRYPTION_KEYS = spec


def test_rotation_reencrypts_every_column_and_old_rows_decrypt_before_and_after(
    org: Organization, settings: Any
) -> None:
    _ring(settings, f"old:{_key(1)}")
    anna = make_patient(org, email="anna@example.ru", clinical_notes=NOTE)
    consent_record(
        org=org,
        actor=None,
        patient=anna,
        purpose=ConsentPurpose.TREATMENT,
        granted=True,
        method=ConsentMethod.WRITTEN,
        evidence="paper form 7",
    )
    _ring(settings, f"new:{_key(2)},old:{_key(1)}")
    # before rotation: rows under the old key still decrypt, new writes use the new key
    assert Patient.objects.for_org(org).get(pk=anna.pk).clinical_notes == NOTE
    dry = io.StringIO()
    call_command("rotate_keys", "--dry-run", "--batch", "1", stdout=dry)
    assert (
        "patients.Patient (email, notes, clinical_notes): 1 rows, 2 values would re-encrypt" in dry.getvalue()
    )
    assert _raw("patients_patient", '"clinical_notes"', anna.pk)[0].startswith("v1:old:")
    out = io.StringIO()
    call_command("rotate_keys", "--org", org.slug, "--batch", "1", stdout=out)
    assert "done: " in out.getvalue() and "4 values re-encrypted with key new" in out.getvalue()
    event = ConsentEvent.objects.for_org(org).get()
    phone = PatientPhone.objects.for_org(org).get(patient=anna)
    assert _raw("patients_patient", '"email"', anna.pk)[0].startswith("v1:new:")
    assert _raw("patients_patientphone", '"e164"', phone.pk)[0].startswith("v1:new:")
    assert _raw("patients_consentevent", '"evidence"', event.pk)[0].startswith("v1:new:")
    # the old key retired: everything still decrypts, the phone is still found
    _ring(settings, f"new:{_key(2)}")
    fresh = Patient.objects.for_org(org).get(pk=anna.pk)
    assert (fresh.email, fresh.clinical_notes, event.evidence) == ("anna@example.ru", NOTE, "paper form 7")
    assert selectors.patient_find_by_phone(org=org, e164=PHONE) == [anna]
    again = io.StringIO()
    call_command("rotate_keys", stdout=again)
    assert "0 values re-encrypted" in again.getvalue()


def test_a_row_under_a_removed_key_names_the_key(org: Organization, settings: Any) -> None:
    _ring(settings, f"gone:{_key(3)}")
    anna = make_patient(org, clinical_notes=NOTE)
    _ring(settings, f"new:{_key(2)}")
    with pytest.raises(crypto.DecryptionError, match="no key with id 'gone'"):
        Patient.objects.for_org(org).get(pk=anna.pk)


def test_the_data_migration_encrypts_plaintext_rows_and_fills_the_indexes(org: Organization) -> None:
    anna = make_patient(org, email="anna@example.ru", clinical_notes=NOTE)
    phone = PatientPhone.objects.for_org(org).get(patient=anna)
    for column, value in (("email", "anna@example.ru"), ("clinical_notes", NOTE), ("email_index", "")):
        _raw_set("patients_patient", column, value, anna.pk)
    _raw_set("patients_patientphone", "e164", PHONE, phone.pk)
    _raw_set("patients_patientphone", "e164_index", "", phone.pk)
    migration = importlib.import_module("clinicflow.patients.migrations.0003_encrypt_contacts_and_notes")
    editor = type("Editor", (), {"connection": connection})()
    migration.encrypt_rows(None, editor)
    migration.encrypt_rows(None, editor)  # a second run changes nothing
    email, clinical = _raw("patients_patient", '"email", "clinical_notes"', anna.pk)
    assert email.startswith("v1:") and "anna" not in email and "lidocaine" not in clinical
    fresh = Patient.objects.for_org(org).get(pk=anna.pk)
    assert (fresh.email, fresh.clinical_notes) == ("anna@example.ru", NOTE)
    assert selectors.patient_find_by_phone(org=org, e164=PHONE) == [anna]
    assert selectors.patient_duplicates(org=org, phones=[], email="anna@example.ru") == [anna]
