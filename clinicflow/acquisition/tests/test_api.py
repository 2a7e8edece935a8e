from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from clinicflow.acquisition.frontdesk import services as frontdesk_services
from clinicflow.acquisition.integrations import services
from clinicflow.acquisition.models import Call, Integration
from clinicflow.acquisition.tests.conftest import load
from clinicflow.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(org: Any, users: Any, make_integration: Any) -> list[Call]:
    _, secret = make_integration("generic")
    path = services.webhook_path("generic", secret)
    for name in ("g1_completed.json", "g2_missed.json"):
        Client().post(path, data=json.dumps(load("generic", name)), content_type="application/json")
    call = Call.objects.for_org(org).get(provider_call_id="g-1001")
    frontdesk_services.call_tag_set(
        org=org, actor=users["frontdesk"], call=call, tags=["booked", "price_enquiry"]
    )
    return list(Call.objects.for_org(org).order_by("started_at"))


def test_calls_are_listed_with_attribution_patient_provider_id_and_raw_payload(
    api: Any, calls: list[Call]
) -> None:
    response = api("frontdesk").get("/api/v1/calls")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first = body["items"][0]
    assert first["provider_call_id"] == "g-1002"
    assert first["status"] == "missed"
    assert first["attribution"]["channel"] == "search_ads"
    assert first["attribution"]["source"] == "yandex"
    assert first["attribution"]["method"] == "provider"
    assert first["payload"]["utm_campaign"] == "implants-spring"
    assert body["items"][1]["tags"] == ["booked", "price_enquiry"]


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("?tag=booked", ["g-1001"]),
        ("?phone=8 916 123 45 67", ["g-1002", "g-1001"]),
        ("?from=2025-03-04&to=2025-03-04", ["g-1002"]),
        ("?to=2025-03-03", ["g-1001"]),
    ],
)
def test_call_filters(api: Any, calls: list[Call], query: str, ids: list[str]) -> None:
    body = api("owner").get("/api/v1/calls" + query).json()
    assert [c["provider_call_id"] for c in body["items"]] == ids


def test_call_list_rejects_bad_filters(api: Any, calls: list[Call]) -> None:
    assert api("owner").get("/api/v1/calls?tag=nope").status_code == 422
    assert api("owner").get("/api/v1/calls?from=yesterday").status_code == 422
    assert api("owner").get("/api/v1/calls?limit=100000").status_code == 400


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("manager", 200), ("frontdesk", 200), ("marketer", 403), ("doctor", 403)],
)
def test_call_list_follows_the_permission_matrix(api: Any, calls: list[Call], role: str, status: int) -> None:
    assert api(role).get("/api/v1/calls").status_code == status


def test_the_outsider_sees_none_of_org_a_calls(api: Any, calls: list[Call], branch: Any) -> None:
    response = api("outsider").get("/api/v1/calls")
    assert response.json()["count"] == 0
    assert "g-1001" not in response.content.decode()
    assert api("outsider").get(f"/api/v1/calls?branch={branch.pk}").status_code == 422


def test_listing_calls_is_audited(api: Any, calls: list[Call], org: Any) -> None:
    before = AuditEvent.objects.filter(organization=org, object_type="call", action="list").count()
    api("owner").get("/api/v1/calls")
    assert (
        AuditEvent.objects.filter(organization=org, object_type="call", action="list").count() == before + 1
    )


def test_integrations_command_adds_lists_and_disables(org: Any, capsys: Any) -> None:
    call_command("integrations", "add", "--org", "demo", "--provider", "callrail", "--signing-key", "k")
    out = capsys.readouterr().out
    url = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("webhook URL"))
    assert "/hooks/calls/callrail/" in url
    integration = Integration.objects.for_org(org).get()
    secret = url.rsplit("/", 1)[1]
    assert integration.secret_hash != secret and secret not in integration.secret_hash
    call_command("integrations", "list", "--org", "demo")
    assert str(integration.pk) in capsys.readouterr().out
    call_command("integrations", "disable", "--org", "demo", str(integration.pk))
    integration.refresh_from_db()
    assert integration.is_active is False
