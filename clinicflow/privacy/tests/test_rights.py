"""Subject access, correction, withdrawal and erasure: one patient seeded across the apps."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.test import Client

from clinicflow.accounts.models import User
from clinicflow.clinical.tests.photo_fixtures import photo_root  # noqa: F401  (fixture)
from clinicflow.core.audit import audit_verify
from clinicflow.core.fields import BlindIndexField
from clinicflow.core.models import Branch, Organization
from clinicflow.messaging.models import Message, Status
from clinicflow.patients.models import PatientPhone
from clinicflow.patients.services import PatientData
from clinicflow.privacy.models import RequestKind, RequestStatus, SubjectRequest
from clinicflow.privacy.rights.collect import patient_links
from clinicflow.privacy.rights.correct import granted_purposes, subject_correct, subject_withdraw
from clinicflow.privacy.rights.erase import HELD, subject_erase
from clinicflow.privacy.rights.export import build_archive, subject_export
from clinicflow.privacy.tests.rights_world import EMAIL, NAME, PHONE, add_photo, seed

pytestmark = pytest.mark.django_db


def test_export_holds_every_linked_record_the_photo_and_no_other_patient(
    org: Organization,
    branch: Branch,
    users: dict[str, User],
    photo_root: Path,  # noqa: F811
) -> None:
    owner = users["owner"]
    patient = seed(org, branch, owner)
    photo = add_photo(org, owner, patient)
    other = seed(org, branch, owner, 1)  # a second patient of the same clinic
    row, archive = subject_export(org=org, actor=owner, patient=patient)
    files = zipfile.ZipFile(io.BytesIO(archive))
    names = files.namelist()
    assert "export.json" in names and "summary.pdf" in names
    assert files.read("summary.pdf").startswith(b"%PDF")
    assert any(n.startswith(f"photos/{photo.pk}") for n in names)
    data = json.loads(files.read("export.json"))
    assert data["patient"]["last_name"] == NAME and data["patient"]["email"] == EMAIL
    for label in (
        "booking.Appointment",
        "booking.Payment",
        "acquisition.Call",
        "messaging.Message",
        "patients.PatientPhone",
        "patients.ConsentEvent",
        "clinical.Photo",
    ):
        assert data["records"][label], label
    assert PHONE in json.dumps(data["records"]["patients.PatientPhone"])
    assert str(other.pk) not in json.dumps(data)
    assert row.kind == RequestKind.EXPORT and row.status == RequestStatus.DONE and row.completed_at
    assert row.due_at > row.received_at


def test_every_model_linked_to_a_patient_is_in_the_export_or_has_no_rows() -> None:
    labels = {link.label for link in patient_links()}
    for needed in (
        "booking.Appointment",
        "clinical.TreatmentRecord",
        "ledger.Transaction",
        "messaging.Message",
    ):
        assert needed in labels


def test_correction_changes_the_card_and_is_logged(
    org: Organization, branch: Branch, users: dict[str, User]
) -> None:
    patient = seed(org, branch, users["owner"])
    data = PatientData(first_name="Uliana", given={"first_name"})
    row = subject_correct(org=org, actor=users["manager"], patient=patient, data=data)
    patient.refresh_from_db()
    assert patient.first_name == "Uliana"
    assert row.kind == RequestKind.CORRECTION and row.outcome == {"fields": ["first_name"]}


def test_withdrawal_cancels_queued_marketing_at_once(
    org: Organization, branch: Branch, users: dict[str, User]
) -> None:
    patient = seed(org, branch, users["owner"])
    assert "marketing_sms" in granted_purposes(org, patient)
    row = subject_withdraw(org=org, actor=users["manager"], patient=patient)
    assert set(row.outcome["withdrawn"]) == {"marketing_sms", "health_data"}
    assert granted_purposes(org, patient) == []
    assert Message.objects.for_org(org).get(patient=patient).status == Status.CANCELLED


def _text_columns() -> list[tuple[type[models.Model], list[str]]]:
    out = []
    for model in apps.get_models():
        names = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
            and not isinstance(f, BlindIndexField)
        ]
        if names and "organization" in {f.name for f in model._meta.concrete_fields}:
            out.append((model, names))
    return out


def test_erasure_leaves_no_name_phone_or_email_outside_held_records(
    org: Organization, branch: Branch, users: dict[str, User]
) -> None:
    patient = seed(org, branch, users["owner"])
    row = subject_erase(org=org, actor=users["manager"], patient=patient)
    held = set(HELD)
    found = []
    for model, names in _text_columns():
        if model._meta.label in held:
            continue
        for values in model._default_manager.filter(organization=org).values_list(*names):
            text = json.dumps([str(v) for v in values], ensure_ascii=False)
            for needle in (NAME, PHONE, EMAIL):
                if needle in text:
                    found.append((model._meta.label, needle))
    assert found == []
    patient.refresh_from_db()
    assert (
        patient.last_name == "Erased"
        and patient.email == ""
        and patient.birth_date.isoformat() == "1990-01-01"
    )
    assert not PatientPhone.objects.for_org(org).filter(patient=patient).exists()
    held_labels = {h["records"] for h in row.outcome["held"]}
    assert {"booking.Appointment", "booking.Payment", "patients.ConsentEvent"} <= held_labels
    assert all(h["until"] > "2050" for h in row.outcome["held"] if h["records"] == "booking.Appointment")
    assert row.outcome["erased"]["patients.PatientPhone"] == 1
    assert SubjectRequest.objects.for_org(org).get(pk=row.pk).status == RequestStatus.DONE
    _, _, broken = audit_verify(org=org)
    assert not broken


def _totals(client: Client) -> dict[str, Any]:
    out = {}
    for name in ("channels", "campaigns", "administrators"):
        response = client.get(f"/api/v1/reports/{name}?from=2026-02-01&to=2026-03-31")
        assert response.status_code == 200, response.content
        out[name] = response.json()
    return out


def test_report_totals_are_the_same_before_and_after_an_erasure(
    org: Organization, branch: Branch, users: dict[str, User], api: Callable[[str], Client]
) -> None:
    patient = seed(org, branch, users["owner"])
    seed(org, branch, users["owner"], 1)
    before = _totals(api("owner"))
    subject_erase(org=org, actor=users["owner"], patient=patient)
    after = _totals(api("owner"))
    assert json.dumps(before, sort_keys=True) == json.dumps(after, sort_keys=True)
    assert before["channels"]["rows"], before  # not an empty report


def test_archive_of_an_erased_patient_has_no_contacts(
    org: Organization, branch: Branch, users: dict[str, User]
) -> None:
    patient = seed(org, branch, users["owner"])
    subject_erase(org=org, actor=users["owner"], patient=patient)
    patient.refresh_from_db()
    _, data = build_archive(org, patient)
    assert PHONE not in json.dumps(data) and EMAIL not in json.dumps(data)
