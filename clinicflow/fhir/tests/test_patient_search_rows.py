"""The Patient search reads each card's phones and imported identifiers in the same statement (the
search by phone alone through its own statement): the resources are the ones a read gives, page
and tenancy rules hold, and nothing of another organisation rides along."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from clinicflow.booking.tests.factories import make_patient
from clinicflow.core.models import Organization
from clinicflow.fhir.models import ExternalIdentifier
from clinicflow.fhir.tests.conftest import FhirClinic, fhir_json
from clinicflow.patients.models import Patient, PatientPhone

pytestmark = pytest.mark.django_db
Fhir = Callable[[str], Client]
SHARED = "+79035550101"


def _entries(client: Client, params: dict[str, str]) -> list[dict[str, Any]]:
    return [e["resource"] for e in fhir_json(client.get("/fhir/r4/Patient", params), 200)["entry"]]


def _identify(org: Organization, patient: Patient, system: str, value: str) -> None:
    ExternalIdentifier.objects.create(
        organization=org, resource_type="Patient", system=system, value=value, local_id=patient.pk
    )


def test_a_search_gives_the_resource_a_read_gives_with_every_phone_and_identifier(
    clinic: FhirClinic, fhir: Fhir
) -> None:
    p = clinic.patient  # +79161234567 (primary) and anna@example.org
    PatientPhone.objects.create(organization=clinic.org, patient=p, e164=SHARED, is_primary=False)
    _identify(clinic.org, p, "urn:oid:1.2.3.4", "MRN-2")
    _identify(clinic.org, p, "urn:oid:1.2.3.4", "MRN-1")
    client = fhir("frontdesk")
    read = fhir_json(client.get(f"/fhir/r4/Patient/{p.pk}"), 200)
    assert read["telecom"] == [
        {"system": "phone", "value": "+79161234567", "use": "mobile", "rank": 1},
        {"system": "phone", "value": SHARED, "use": "mobile"},
        {"system": "email", "value": "anna@example.org"},
    ]
    assert read["identifier"][1:] == [
        {"system": "urn:oid:1.2.3.4", "value": "MRN-1"},
        {"system": "urn:oid:1.2.3.4", "value": "MRN-2"},
    ]
    # by either phone alone (its own statement), by a phone and a name, by a name, by an identifier
    for params in (
        {"phone": SHARED},
        {"phone": "+79161234567"},
        {"phone": SHARED, "name": "ivanova"},
        {"name": "ivanova"},
        {"identifier": "urn:oid:1.2.3.4|MRN-1"},
        {"phone": SHARED, "birthdate": "1990-05-17"},
    ):
        assert _entries(client, params) == [read], params
    # without the contacts permission the search leaves the telecom out, as the read does
    marketer = _entries(fhir("marketer"), {"name": "ivanova"})
    assert marketer == [fhir_json(fhir("marketer").get(f"/fhir/r4/Patient/{p.pk}"), 200)]
    assert "telecom" not in marketer[0]


def test_a_shared_number_pages_in_name_order_with_links_and_the_total(clinic: FhirClinic, fhir: Fhir) -> None:
    cards = [make_patient(clinic.org, last_name=name, phone=SHARED) for name in ("Cherry", "Apple", "Banana")]
    client = fhir("owner")
    first = fhir_json(client.get("/fhir/r4/Patient", {"phone": SHARED, "_count": "2"}), 200)
    assert [e["resource"]["name"][0]["family"] for e in first["entry"]] == ["Apple", "Banana"]
    assert "total" not in first
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert set(links) == {"self", "next"}
    second = fhir_json(client.get(links["next"].removeprefix("http://testserver")), 200)
    assert [e["resource"]["id"] for e in second["entry"]] == [str(cards[0].pk)]
    assert second["total"] == 3
    assert {link["relation"] for link in second["link"]} == {"self", "previous"}
    beyond = fhir_json(client.get("/fhir/r4/Patient", {"phone": SHARED, "_offset": "3"}), 200)
    assert beyond["entry"] == [] and "total" not in beyond


def test_merged_cards_and_everything_of_another_organisation_stay_out(
    clinic: FhirClinic, fhir: Fhir, other_org: Organization
) -> None:
    p = clinic.patient
    merged = make_patient(clinic.org, last_name="Ivanova", first_name="Old", phone=SHARED)
    merged.merged_into = p
    merged.save(update_fields=["merged_into"])
    PatientPhone.objects.create(organization=clinic.org, patient=p, e164=SHARED, is_primary=False)
    theirs = make_patient(other_org, last_name="Theirs", phone=SHARED)
    _identify(other_org, theirs, "urn:other", "THEIRS-1")
    # rows of the other organisation that name our card (as a broken import could write them)
    PatientPhone.objects.create(organization=other_org, patient=p, e164="+79990001122", is_primary=True)
    _identify(other_org, p, "urn:other", "LEAK-1")
    client = fhir("owner")
    for params in ({"phone": SHARED}, {"name": "ivanova"}):
        found = _entries(client, params)
        assert [r["id"] for r in found] == [str(p.pk)], params
        values = [t["value"] for t in found[0]["telecom"]]
        assert values == ["+79161234567", SHARED, "anna@example.org"], params
        assert [i["value"] for i in found[0]["identifier"]] == [str(p.pk)], params
    # the other organisation's owner finds their own card by the same number, with their identifier
    found = _entries(fhir("outsider"), {"phone": SHARED})
    assert [r["id"] for r in found] == [str(theirs.pk)]
    assert [i["value"] for i in found[0]["identifier"]] == [str(theirs.pk), "THEIRS-1"]
    assert [t["value"] for t in found[0]["telecom"]] == [SHARED]
