"""A Patient search is audited exactly once, whichever way the row is written: with the production
default (rows left to the chainer) the search by phone writes its audit row in its own statement on
PostgreSQL, so the whole request is two statements. Transactional: outside ``atomic``, as served."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from clinicflow.core.audit import audit_verify
from clinicflow.core.models import AuditEvent, AuditPending
from clinicflow.fhir.tests.conftest import FhirClinic, fhir_json

pytestmark = pytest.mark.django_db(transaction=True)
Fhir = Callable[[str], Client]
DEFERRED = override_settings(AUDIT_CHAIN_INLINE=False)  # the production default


def _search(client: Client, params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    client.get("/fhir/r4/Patient", params)  # the token's last use is touched once per five minutes
    with CaptureQueriesContext(connection) as ctx:
        body = fhir_json(client.get("/fhir/r4/Patient", params), 200)
    return body, [q["sql"] for q in ctx.captured_queries]


def _lists(clinic: FhirClinic) -> list[tuple[str, str, list[str], str]]:
    rows = AuditEvent.objects.filter(organization=clinic.org, action="list", object_type="patient")
    return [(r.actor_email, r.outcome, r.fields, r.ip or "") for r in rows.order_by("at", "id")]


@DEFERRED
def test_a_search_by_phone_writes_its_audit_row_in_its_own_statement(clinic: FhirClinic, fhir: Fhir) -> None:
    client = fhir("frontdesk")
    body, sqls = _search(client, {"phone": "+79161234567"})
    assert [e["resource"]["id"] for e in body["entry"]] == [str(clinic.patient.pk)]
    assert _lists(clinic) == [("frontdesk@demo.test", "ok", ["phone"], "127.0.0.1")] * 2  # one per request
    if connection.vendor == "postgresql":
        # the token; the cards with the audit row and its marker: no BEGIN, no COMMIT, no other write
        assert len(sqls) == 2 and "core_auditevent" in sqls[1] and "patients_patientphone" in sqls[1]
    else:
        assert sum("core_auditevent" in s for s in sqls) == 1  # written after the search
    waiting = AuditPending.objects.filter(organization=clinic.org, event__action="list")
    assert waiting.count() == 2  # left to the chainer
    checked, broken, reason = audit_verify(org=clinic.org)
    assert (broken, reason) == (None, "") and checked >= 2


@DEFERRED
def test_other_searches_and_empty_results_are_audited_once_too(clinic: FhirClinic, fhir: Fhir) -> None:
    client = fhir("frontdesk")
    _, by_name = _search(client, {"name": "Ivanova"})
    assert sum("core_auditevent" in s for s in by_name) == 1
    body, _ = _search(client, {"phone": "+79990000000"})  # nobody has it: still an audited search
    assert body["total"] == 0
    assert [f for _, _, f, _ in _lists(clinic)] == [["name"], ["name"], ["phone"], ["phone"]]


@DEFERRED
def test_a_refused_phone_search_reads_nothing_and_lists_nothing(clinic: FhirClinic, fhir: Fhir) -> None:
    with CaptureQueriesContext(connection) as ctx:
        response = fhir("marketer").get("/fhir/r4/Patient", {"phone": "+79161234567"})
    assert response.status_code == 403
    assert not any("patients_patient" in q["sql"] for q in ctx.captured_queries)
    assert _lists(clinic) == []
