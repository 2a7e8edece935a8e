"""The consultations API: record, list, read, quote; roles refused; another organisation's ids 404."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from clinicflow.clinical.tests.consultations_setup import Consult, answers, cc, consultation
from clinicflow.core.models import AuditEvent

__all__ = ["cc"]
URL = "/api/v1/consultations"


def _post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_a_doctor_records_reads_lists_and_quotes(cc: Consult, api: Callable[[str], Client]) -> None:
    doctor = api("doctor")
    r = _post(doctor, URL, {"appointment": str(cc.appt.pk), **answers()})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["expectation"] == 7 and body["concerns"] == "Морщины на лбу"
    r = doctor.get(f"{URL}/{body['id']}")
    assert r.status_code == 200 and r.json()["id"] == body["id"]
    assert AuditEvent.objects.filter(object_type="consultation", object_id=body["id"], action="view").exists()
    r = doctor.get(URL, {"patient": str(cc.patient.pk)})
    assert r.status_code == 200 and [i["id"] for i in r.json()["items"]] == [body["id"]]
    lines = [
        {
            "kind": "procedure",
            "service": str(cc.botox.pk),
            "discount_kind": "amount",
            "discount_value": "1000.50",
            "discount_reason": "first visit",
        },
        {"kind": "anaesthesia", "description": "Topical cream", "unit_price": "500.00"},
    ]
    r = _post(doctor, f"{URL}/{body['id']}/quote", {"lines": lines})
    assert r.status_code == 201, r.content
    quote = r.json()
    assert quote["total"] in ("17499.50", 17499.5) and quote["currency"] == "RUB"
    assert doctor.get(f"{URL}/{body['id']}").json()["quotes"] == [quote["id"]]


def test_an_expectation_out_of_range_is_a_422_naming_the_field(
    cc: Consult, api: Callable[[str], Client]
) -> None:
    for value in (11, -1):
        r = _post(api("doctor"), URL, {"appointment": str(cc.appt.pk), **answers(expectation=value)})
        assert r.status_code == 422
        assert "expectation" in r.json()["error"]["fields"]


def test_a_bad_quote_line_is_a_422_naming_the_line(cc: Consult, api: Callable[[str], Client]) -> None:
    c = consultation(cc)
    r = _post(api("doctor"), f"{URL}/{c.pk}/quote", {"lines": [{"kind": "procedure"}]})
    assert r.status_code == 422 and "lines[0].service" in r.json()["error"]["fields"]


@pytest.mark.parametrize("persona", ["marketer", "frontdesk"])
def test_marketers_and_the_front_desk_get_no_clinical_content(
    cc: Consult, api: Callable[[str], Client], persona: str
) -> None:
    c = consultation(cc)
    client = api(persona)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}/{c.pk}").status_code == 403
    assert _post(client, URL, {"appointment": str(cc.appt.pk), **answers()}).status_code == 403
    assert _post(client, f"{URL}/{c.pk}/quote", {"lines": []}).status_code == 403
    assert AuditEvent.objects.filter(outcome="denied", role=persona).exists()


def test_a_manager_reads_but_does_not_record(cc: Consult, api: Callable[[str], Client]) -> None:
    c = consultation(cc)
    assert api("manager").get(f"{URL}/{c.pk}").status_code == 200
    assert _post(api("manager"), URL, {"appointment": str(cc.appt.pk), **answers()}).status_code == 403


def test_another_organisations_ids_are_not_found(cc: Consult, api: Callable[[str], Client]) -> None:
    c = consultation(cc)
    outsider = api("outsider")
    assert outsider.get(f"{URL}/{c.pk}").status_code == 404
    assert outsider.get(f"{URL}/not-an-id").status_code == 404
    assert _post(outsider, f"{URL}/{c.pk}/quote", {"lines": [{"kind": "drug"}]}).status_code == 404
    assert _post(outsider, URL, {"appointment": str(cc.appt.pk), **answers()}).status_code == 404
    assert outsider.get(URL, {"patient": str(cc.patient.pk)}).status_code == 404
    assert outsider.get(URL).json()["items"] == []


def test_a_quote_is_sent_and_accepted_through_the_api(cc: Consult, api: Callable[[str], Client]) -> None:
    c = consultation(cc)
    doctor = api("doctor")
    quote = _post(
        doctor, f"{URL}/{c.pk}/quote", {"lines": [{"kind": "procedure", "service": str(cc.botox.pk)}]}
    ).json()
    assert _post(api("frontdesk"), f"/api/v1/quotes/{quote['id']}/accept", {}).status_code == 403
    assert _post(api("outsider"), f"/api/v1/quotes/{quote['id']}/send", {}).status_code == 404
    r = _post(doctor, f"/api/v1/quotes/{quote['id']}/send", {})
    assert r.status_code == 200 and r.json()["status"] == "sent"
    r = _post(doctor, f"/api/v1/quotes/{quote['id']}/accept", {})
    assert r.status_code == 200 and r.json()["status"] == "accepted" and r.json()["lines"][0]["appointment"]
    assert _post(doctor, f"/api/v1/quotes/{quote['id']}/accept", {}).status_code == 409
