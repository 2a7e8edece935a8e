"""Query budgets of the FHIR searches: fixed, whatever the page holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinicflow.booking.tests.factories import make_patient
from clinicflow.fhir.tests.conftest import FhirClinic, fhir_json

pytestmark = pytest.mark.django_db
Fhir = Callable[[str], Client]


def _queries(client: Client, url: str, params: dict[str, Any]) -> int:
    """The statements of one request but the audit's: the audit row and its chain link cost what
    ``core.audit.audit_record`` costs (its own budget, which differs by database), never more per
    row found."""
    client.get(url, params)  # the token's last use is touched once per five minutes: not counted
    with CaptureQueriesContext(connection) as ctx:
        fhir_json(client.get(url, params), 200)
    sqls = [q["sql"] for q in ctx.captured_queries]
    audit = [s for s in sqls if "core_audit" in s]
    assert audit, "the search is audited"
    return len([s for s in sqls if s not in audit and s.split()[0].upper() not in ("BEGIN", "COMMIT")])


def test_patient_searches_cost_the_same_for_one_patient_or_twenty(clinic: FhirClinic, fhir: Fhir) -> None:
    client = fhir("frontdesk")
    one = _queries(client, "/fhir/r4/Patient", {"name": "Ivanova"})
    by_phone = _queries(client, "/fhir/r4/Patient", {"phone": "+79161234567"})
    for i in range(20):
        make_patient(clinic.org, last_name="Ivanova", first_name=f"N{i}", phone=f"+7916000{i:04d}")
    # the token; the patients with their phones and imported identifiers (one statement)
    assert one == 2
    assert by_phone == 2  # the phone's owners in the same statement, by the blind index
    assert _queries(client, "/fhir/r4/Patient", {"name": "Ivanova"}) == one
    assert _queries(client, "/fhir/r4/Patient", {"phone": "+79160000003"}) == by_phone


def test_appointment_search_costs_the_same_for_any_page(clinic: FhirClinic, fhir: Fhir) -> None:
    from clinicflow.booking import services as booking
    from clinicflow.booking.tests.factories import local

    client = fhir("frontdesk")
    empty = _queries(client, "/fhir/r4/Appointment", {})
    for hour in (9, 11, 13, 15):
        booking.appointment_book(
            org=clinic.org, actor=None, branch=clinic.branch, patient=clinic.patient, service=clinic.laser,
            doctor=clinic.doctor, start=local(clinic.branch, clinic.day, hour), notify=False,
        )  # fmt: skip
    assert _queries(client, "/fhir/r4/Appointment", {}) == empty == 2  # the token; the appointments
