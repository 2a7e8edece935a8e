"""FHIR test fixtures: a clinic (the booking app's factories), token clients, and ``valid``: every
resource Clinicflow emits is checked against R4 with an independent library (fhir.resources)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from clinicflow.accounts.models import User
from clinicflow.accounts.services import api_token_issue
from clinicflow.booking.models import Doctor, Room
from clinicflow.booking.tests.factories import (
    make_doctor,
    make_patient,
    make_room,
    make_service,
    next_weekday,
)
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient

FHIR_JSON = "application/fhir+json"
ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def _check_ids(value: Any, path: str = "") -> None:
    """fhir.resources does not bound ids to 64 characters: the R4 rule is checked here."""
    if isinstance(value, dict):
        if "resourceType" in value and "id" in value:
            assert ID_RE.match(value["id"]), f"{path}.id {value['id']!r} is not a FHIR id"
        for key, item in value.items():
            _check_ids(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_ids(item, f"{path}[{i}]")


def valid(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` after validating it as the R4 resource it says it is (a Bundle's entries too)."""
    model = get_fhir_model_class(body["resourceType"])
    model.model_validate(body)
    for entry in body.get("entry", []):
        if "resource" in entry:
            get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    _check_ids(body)
    return body


def fhir_json(response: Any, status: int) -> dict[str, Any]:
    """The response's JSON after checking its status, its content type and its R4 validity."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"
    body: dict[str, Any] = json.loads(response.content)
    return valid(body)


def outcome(response: Any, status: int) -> str:
    """The OperationOutcome's diagnostics, after checking the status and the resource."""
    body = fhir_json(response, status)
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error"
    return str(body["issue"][0]["diagnostics"])


@dataclass
class FhirClinic:
    org: Organization
    branch: Branch
    laser: Service
    doctor: Doctor
    room: Room
    patient: Patient
    day: dt.date


@pytest.fixture(autouse=True)
def _counters_in_the_test_database(settings: Any) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "clinicflow_cache"}
    }


@pytest.fixture
def clinic(org: Organization, branch: Branch, users: Any) -> FhirClinic:
    laser = make_service(org)
    room = make_room(org, branch, "Laser 1")
    doctor = make_doctor(org, branch, [laser], "Dr Petrova")
    patient = make_patient(org, email="anna@example.org", birth_date=dt.date(1990, 5, 17))
    return FhirClinic(org, branch, laser, doctor, room, patient, next_weekday(2))


@pytest.fixture
def fhir(users: dict[str, User]) -> Callable[[str], Client]:
    """``fhir("frontdesk")`` -> a client with that persona's bearer token, asking for FHIR JSON, and
    enforcing CSRF checks as a real server does (the FHIR API must not depend on a cookie)."""
    cache: dict[str, Client] = {}

    def make(persona: str) -> Client:
        if persona not in cache:
            _, raw = api_token_issue(user=users[persona])
            cache[persona] = Client(
                enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_ACCEPT=FHIR_JSON
            )
        return cache[persona]

    return make


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type=FHIR_JSON)
