"""The breach-register API: list, read, register; permissions, errors naming the field, isolation."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from clinicflow.core.models import AuditEvent, Organization
from clinicflow.privacy.models import Incident
from clinicflow.privacy.tests.factories import make_incident

pytestmark = pytest.mark.django_db

BODY = {
    "title": "Backup copied to a personal drive",
    "discovered_at": "2026-03-02T09:30:00Z",
    "facts": "A nightly backup was copied to a USB drive and lost.",
    "data_categories": ["identity", "health"],
}


def _post(client: Client, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/privacy/incidents", json.dumps(body), content_type="application/json")


def test_registering_through_the_api_computes_the_tenants_deadlines(
    api: Callable[[str], Client], org: Organization
) -> None:
    response = _post(api("manager"), BODY)
    assert response.status_code == 201
    body = response.json()
    assert body["jurisdictions"] == ["RU"]
    assert [(d["kind"], d["due_at"]) for d in body["deadlines"]] == [
        ("ru_initial", "2026-03-03T09:30:00Z"),
        ("ru_followup", "2026-03-05T09:30:00Z"),
    ]
    assert body["affected_patients"] == 0
    assert Incident.objects.for_org(org).get().pk.hex == body["id"].replace("-", "")


def test_a_chosen_jurisdiction_and_the_list_with_its_next_deadline(
    api: Callable[[str], Client], org: Organization
) -> None:
    client = api("owner")
    created = _post(client, {**BODY, "jurisdictions": ["CN"]}).json()
    assert [(d["kind"], d["due_at"], d["overdue"]) for d in created["deadlines"]] == [
        ("cn_immediate", "2026-03-02T09:30:00Z", True)
    ]
    [row] = client.get("/api/v1/privacy/incidents").json()
    assert (row["id"], row["next_deadline"]["kind"], row["next_deadline"]["overdue"]) == (
        created["id"],
        "cn_immediate",
        True,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"discovered_at": "2026-03-02T09:30:00"}, "discovered_at"),  # no UTC offset
        ({"title": ""}, "title"),
        ({"jurisdictions": ["XX"]}, "jurisdictions"),
        ({"data_categories": ["gossip"]}, "data_categories"),
        ({"discovered_at": "not a time"}, "discovered_at"),
    ],
)
def test_a_bad_incident_gets_422_naming_the_field(
    api: Callable[[str], Client], org: Organization, changes: dict[str, Any], field: str
) -> None:
    response = _post(api("owner"), {**BODY, **changes})
    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == [field]
    assert not Incident.objects.for_org(org).exists()


@pytest.mark.parametrize("role", ["marketer", "frontdesk", "doctor"])
def test_other_roles_get_403(api: Callable[[str], Client], org: Organization, role: str) -> None:
    incident = make_incident(org)
    client = api(role)
    assert client.get("/api/v1/privacy/incidents").status_code == 403
    assert client.get(f"/api/v1/privacy/incidents/{incident.pk}").status_code == 403
    assert _post(client, BODY).status_code == 403
    assert Incident.objects.for_org(org).count() == 1


def test_another_organisations_incident_is_404_and_not_listed(
    api: Callable[[str], Client], org: Organization, other_org: Organization
) -> None:
    theirs = make_incident(other_org, title="Secret Shanghai incident")
    client = api("owner")
    response = client.get(f"/api/v1/privacy/incidents/{theirs.pk}")
    assert response.status_code == 404
    assert "Secret" not in response.content.decode()
    assert client.get("/api/v1/privacy/incidents").json() == []


def test_reading_an_incident_is_audited(api: Callable[[str], Client], org: Organization, users: Any) -> None:
    incident = make_incident(org, discovered_at=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC))
    body = api("owner").get(f"/api/v1/privacy/incidents/{incident.pk}").json()
    assert body["facts"] == incident.facts
    row = AuditEvent.objects.for_org(org).get(object_type="incident", action="view")
    assert (row.actor_id, row.object_id) == (users["owner"].pk, str(incident.pk))
