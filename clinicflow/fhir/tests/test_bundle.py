"""Import of FHIR Bundles: ``POST /fhir/r4/`` (transaction) and ``clinicflow fhir import`` (transaction
or collection); all or nothing, references by ``urn:uuid:`` resolved."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from clinicflow.booking.models import Appointment
from clinicflow.booking.tests.factories import local
from clinicflow.core.models import Organization
from clinicflow.fhir.models import ExternalIdentifier
from clinicflow.fhir.tests.conftest import FhirClinic, fhir_json, outcome, post, valid
from clinicflow.patients.models import Patient

pytestmark = pytest.mark.django_db
Fhir = Callable[[str], Client]


def _bundle(
    clinic: FhirClinic, kind: str = "transaction", hours: tuple[int, ...] = (10, 12)
) -> dict[str, Any]:
    patient_url = f"urn:uuid:{uuid.uuid4()}"
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": patient_url,
            "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": "urn:oid:1.2.643.5.1", "value": "EMR-1"}],
                "name": [{"family": "Kuznetsova", "given": ["Irina"]}],
                "telecom": [{"system": "phone", "value": "+79035550011"}],
            },
        }
    ]
    for i, hour in enumerate(hours):
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": {
                    "resourceType": "Appointment",
                    "identifier": [{"system": "urn:oid:1.2.643.5.2", "value": f"VISIT-{i}"}],
                    "status": "booked",
                    "serviceType": [{"coding": [{"system": "urn:clinicflow:service", "code": "laser-face"}]}],
                    "start": local(clinic.branch, clinic.day, hour).isoformat(),
                    "participant": [
                        {"actor": {"reference": patient_url}, "status": "accepted"},
                        {"actor": {"reference": f"Practitioner/{clinic.doctor.pk}"}, "status": "accepted"},
                    ],
                },
            }
        )
    # appointments first in the file: the import still creates the patient before them
    entries = entries[1:] + entries[:1]
    if kind == "transaction":
        for entry in entries:
            entry["request"] = {"method": "POST", "url": entry["resource"]["resourceType"]}
    return valid({"resourceType": "Bundle", "type": kind, "entry": entries})


def _counts(org: Organization) -> tuple[int, int, int]:
    return (
        Patient.objects.filter(organization=org).count(),
        Appointment.objects.filter(organization=org).count(),
        ExternalIdentifier.objects.filter(organization=org).count(),
    )


def test_a_transaction_bundle_creates_patients_and_their_appointments(clinic: FhirClinic, fhir: Fhir) -> None:
    body = fhir_json(post(fhir("manager"), "/fhir/r4/", _bundle(clinic)), 200)
    assert body["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert statuses == ["201 Created"] * 3
    patient = Patient.objects.get(organization=clinic.org, last_name="Kuznetsova")
    assert body["entry"][2]["response"]["location"] == f"Patient/{patient.pk}"
    appts = Appointment.objects.filter(organization=clinic.org, patient=patient).order_by("start_at")
    assert [a.start_at for a in appts] == [local(clinic.branch, clinic.day, h) for h in (10, 12)]
    assert _counts(clinic.org) == (2, 2, 3)


def test_a_bundle_whose_second_appointment_clashes_stores_nothing(clinic: FhirClinic, fhir: Fhir) -> None:
    before = _counts(clinic.org)
    response = post(fhir("manager"), "/fhir/r4/", _bundle(clinic, hours=(10, 10)))
    body = fhir_json(response, 409)
    assert body["issue"][0]["expression"][0].startswith("Bundle.entry[1].resource")
    assert _counts(clinic.org) == before


def test_a_resource_of_the_wrong_type_is_refused_and_nothing_is_stored(
    clinic: FhirClinic, fhir: Fhir
) -> None:
    bundle = _bundle(clinic)
    bundle["entry"].append(
        {"resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"}},
         "request": {"method": "POST", "url": "Observation"}}
    )  # fmt: skip
    before = _counts(clinic.org)
    body = fhir_json(post(fhir("manager"), "/fhir/r4/", bundle), 422)
    assert (
        body["issue"][0]["diagnostics"]
        == "a Bundle may hold only Patient and Appointment resources, not 'Observation'"
    )
    assert body["issue"][0]["expression"] == ["Bundle.entry[3].resource.resourceType"]
    assert _counts(clinic.org) == before


def test_an_unknown_reference_is_refused_and_nothing_is_stored(clinic: FhirClinic, fhir: Fhir) -> None:
    bundle = _bundle(clinic)
    bundle["entry"][1]["resource"]["participant"][0]["actor"]["reference"] = (
        "urn:uuid:00000000-0000-0000-0000-000000000001"
    )
    before = _counts(clinic.org)
    body = fhir_json(post(fhir("manager"), "/fhir/r4/", bundle), 422)
    assert body["issue"][0]["diagnostics"].startswith("unknown reference 'urn:uuid:00000000")
    assert body["issue"][0]["expression"] == ["Bundle.entry[1].resource"]
    assert _counts(clinic.org) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "batch"}, "POST a Bundle of type transaction here"),
        ({"resourceType": "Patient"}, "expected a Bundle, got a Patient"),
    ],
)
def test_other_bundles_are_refused(
    clinic: FhirClinic, fhir: Fhir, change: dict[str, Any], message: str
) -> None:
    assert outcome(post(fhir("manager"), "/fhir/r4/", {**_bundle(clinic), **change}), 422).startswith(message)


def test_a_transaction_entry_must_be_a_post_of_its_type(clinic: FhirClinic, fhir: Fhir) -> None:
    bundle = _bundle(clinic)
    bundle["entry"][0]["request"] = {"method": "PUT", "url": "Appointment/1"}
    body = fhir_json(post(fhir("manager"), "/fhir/r4/", bundle), 422)
    assert body["issue"][0]["expression"] == ["Bundle.entry[0].request"]


def test_the_bundle_needs_the_permissions_of_every_entry(clinic: FhirClinic, fhir: Fhir) -> None:
    # the doctor may edit patients but not book: the whole bundle is refused before anything is stored
    assert (
        outcome(post(fhir("doctor"), "/fhir/r4/", _bundle(clinic)), 403)
        == "your role may not do this (booking.book)"
    )
    assert _counts(clinic.org) == (1, 0, 0)


def test_importing_the_same_bundle_twice_creates_nothing_twice(clinic: FhirClinic, fhir: Fhir) -> None:
    bundle = _bundle(clinic)
    fhir_json(post(fhir("manager"), "/fhir/r4/", bundle), 200)
    body = fhir_json(post(fhir("manager"), "/fhir/r4/", bundle), 200)
    assert [e["response"]["status"] for e in body["entry"]] == ["200 OK"] * 3
    assert _counts(clinic.org) == (2, 2, 3)


def _write(tmp_path: Path, bundle: dict[str, Any]) -> str:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return str(path)


def test_the_command_imports_a_collection(clinic: FhirClinic, tmp_path: Path, capsys: Any) -> None:
    call_command("fhir", "import", _write(tmp_path, _bundle(clinic, "collection")), "--org", "demo")
    out = capsys.readouterr().out
    assert "Patient: created 1, already present 0" in out
    assert "Appointment: created 2, already present 0" in out
    assert _counts(clinic.org) == (2, 2, 3)


def test_the_command_dry_run_stores_nothing(clinic: FhirClinic, tmp_path: Path, capsys: Any) -> None:
    call_command(
        "fhir", "import", _write(tmp_path, _bundle(clinic, "collection")), "--org", "demo", "--dry-run"
    )
    out = capsys.readouterr().out
    assert "Appointment: would create 2" in out and "dry run: nothing was stored" in out
    assert _counts(clinic.org) == (1, 0, 0)


def test_the_command_refuses_a_bad_bundle_and_stores_nothing(
    clinic: FhirClinic, tmp_path: Path, capsys: Any
) -> None:
    bundle = _bundle(clinic, "collection", hours=(10, 10))
    with pytest.raises(CommandError, match=r"nothing imported: .* \(at Bundle.entry\[1\].resource"):
        call_command("fhir", "import", _write(tmp_path, bundle), "--org", "demo")
    printed = valid(json.loads(capsys.readouterr().err))
    assert printed["issue"][0]["code"] == "conflict"
    assert _counts(clinic.org) == (1, 0, 0)
    with pytest.raises(CommandError, match="unknown organisation 'nope'"):
        call_command("fhir", "import", _write(tmp_path, bundle), "--org", "nope")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="is not a JSON file"):
        call_command("fhir", "import", str(tmp_path / "bad.json"), "--org", "demo")


def test_the_command_imports_into_the_named_organisation_only(
    clinic: FhirClinic, other_org: Organization, tmp_path: Path
) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [_bundle(clinic, "collection")["entry"][-1]],
    }
    call_command("fhir", "import", _write(tmp_path, bundle), "--org", "other")
    assert Patient.objects.filter(organization=other_org, last_name="Kuznetsova").count() == 1
    assert not Patient.objects.filter(organization=clinic.org, last_name="Kuznetsova").exists()
