"""YCLIENTS: /clients and /records responses (API v2 shapes), and the change webhooks."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.test import Client

from clinicflow.booking.models import Appointment, AppointmentStatus, Doctor
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization
from clinicflow.imports.models import SourceRecord
from clinicflow.imports.yclients.services import link_create, yclients_import
from clinicflow.patients.models import Patient
from clinicflow.patients.selectors import patient_find_by_phone

CLIENTS = {
    "success": True,
    "data": [
        {
            "id": 101,
            "name": "Анна",
            "surname": "Иванова",
            "patronymic": "",
            "phone": "+79161234567",
            "email": "anna@example.com",
            "sex_id": 2,
            "birth_date": "1990-05-01",
            "comment": "",
            "categories": [],
        },
        {
            "id": 102,
            "name": "Олег",
            "surname": "",
            "phone": "79162223344",
            "email": "",
            "sex_id": 1,
            "birth_date": "0000-00-00",
        },
    ],
    "meta": {"total_count": 2},
}
RECORD = {
    "id": 9001,
    "company_id": 4564,
    "staff_id": 7,
    "services": [
        {"id": 1, "title": "Лазерная эпиляция", "cost": 4500, "discount": 0, "amount": 1},
        {"id": 2, "title": "Консультация", "cost": 500.5, "discount": 0, "amount": 1},
    ],
    "staff": {"id": 7, "name": "Смирнова Е.", "specialization": "косметолог"},
    "client": {"id": 103, "name": "Ирина", "surname": "Петрова", "phone": "+79163334455", "email": ""},
    "date": "2024-03-01 10:00:00",
    "datetime": "2024-03-01T10:00:00+03:00",
    "seance_length": 5400,
    "length": 5400,
    "visit_attendance": 1,
    "attendance": 1,
    "deleted": False,
    "comment": "",
    "online": True,
}
RECORDS = {"success": True, "data": [RECORD], "meta": {"page": 1, "total_count": 1}}


def test_clients_then_records_import_idempotently(org: Organization, branch: Branch) -> None:
    result = yclients_import(org=org, branch=branch, kind="clients", payload=CLIENTS)
    assert (result.created, result.errors) == (2, [])
    oleg = patient_find_by_phone(org=org, e164="+79162223344")[0]
    assert (oleg.last_name, oleg.sex, oleg.birth_date) == ("Олег", "M", None)
    result = yclients_import(org=org, branch=branch, kind="records", payload=RECORDS)
    assert (result.created, result.extra) == (1, {"services": 1, "doctors": 1})
    visit = Appointment.objects.for_org(org).get()
    assert (visit.status, str(visit.price), visit.currency) == (AppointmentStatus.DONE, "5000.50", "RUB")
    assert visit.start_at.isoformat() == "2024-03-01T07:00:00+00:00"
    assert (visit.end_at - visit.start_at).seconds == 5400
    assert Service.objects.for_org(org).get().name == "Лазерная эпиляция"
    assert Doctor.objects.for_org(org).get().full_name == "Смирнова Е."
    assert [p.full_name for p in patient_find_by_phone(org=org, e164="+79163334455")] == ["Петрова Ирина"]
    again = yclients_import(org=org, branch=branch, kind="records", payload=RECORDS)
    assert (again.created, again.unchanged) == (0, 1)
    assert Appointment.objects.for_org(org).count() == 1 and Patient.objects.for_org(org).count() == 3


def test_a_bad_record_stores_nothing(org: Organization, branch: Branch) -> None:
    bad = copy.deepcopy(RECORDS)
    bad["data"].append({**RECORD, "id": 9002, "staff": {}})  # type: ignore[attr-defined]
    result = yclients_import(org=org, branch=branch, kind="records", payload=bad)
    assert [(i.line, i.field, i.problem) for i in result.errors] == [
        (2, "staff", "a record needs its staff member")
    ]
    assert Appointment.objects.count() == 0 and Patient.objects.count() == 0


def _post(client: Client, secret: str, body: Any) -> Any:
    return client.post(f"/hooks/yclients/{secret}", json.dumps(body), content_type="application/json")


def test_webhook_creates_updates_replays_and_deletes(org: Organization, branch: Branch) -> None:
    _link, secret = link_create(org=org, branch=branch, company_id="4564")
    client = Client()
    created = _post(
        client,
        secret,
        {"company_id": 4564, "resource": "record", "resource_id": 9001, "status": "create", "data": RECORD},
    )
    assert created.status_code == 200 and created.json()["result"] == "created"
    assert (
        _post(client, secret, {"resource": "record", "status": "create", "data": RECORD}).json()["result"]
        == "unchanged"
    )
    moved = {**RECORD, "datetime": "2024-03-02T12:00:00+03:00", "visit_attendance": -1}
    assert (
        _post(client, secret, {"resource": "record", "status": "update", "data": moved}).json()["result"]
        == "updated"
    )
    visit = Appointment.objects.for_org(org).get()
    assert (visit.status, visit.start_at.isoformat()) == (
        AppointmentStatus.NO_SHOW,
        "2024-03-02T09:00:00+00:00",
    )
    assert (
        _post(client, secret, {"resource": "record", "status": "update", "data": moved}).json()["result"]
        == "unchanged"
    )
    renamed = {**RECORD["client"], "surname": "Сидорова", "email": "irina@example.com"}  # type: ignore[dict-item]
    assert (
        _post(client, secret, {"resource": "client", "status": "update", "data": renamed}).json()["result"]
        == "updated"
    )
    irina = Patient.objects.for_org(org).get()
    assert (irina.last_name, irina.email) == ("Сидорова", "irina@example.com")
    assert (
        _post(client, secret, {"resource": "record", "status": "delete", "data": moved}).json()["result"]
        == "cancelled"
    )
    assert Appointment.objects.for_org(org).get().status == AppointmentStatus.CANCELLED


def test_webhook_secret_tenancy_and_bad_input(
    org: Organization, branch: Branch, other_org: Organization, other_branch: Branch
) -> None:
    link, secret = link_create(org=org, branch=branch)
    assert secret not in link.secret_sha256 and len(link.secret_sha256) == 64
    client = Client()
    assert _post(client, secret[:-1] + ("A" if secret[-1] != "A" else "B"), {}).status_code == 404
    assert _post(client, "x" * 50, {}).status_code == 404
    assert client.get(f"/hooks/yclients/{secret}").status_code == 405
    assert (
        client.post(
            f"/hooks/yclients/{secret}", "a=1", content_type="application/x-www-form-urlencoded"
        ).status_code
        == 415
    )
    assert _post(client, secret, {"resource": "visit", "data": {}}).status_code == 422
    assert (
        _post(
            client, secret, {"resource": "record", "status": "create", "data": {**RECORD, "services": []}}
        ).status_code
        == 422
    )
    # a payload naming the other organisation's company still lands in the secret's organisation
    _post(
        client,
        secret,
        {
            "company_id": str(other_org.pk),
            "organization": str(other_org.pk),
            "resource": "client",
            "status": "create",
            "data": CLIENTS["data"][0],
        },
    )  # type: ignore[index]
    assert Patient.objects.for_org(org).count() == 1 and Patient.objects.for_org(other_org).count() == 0
    assert SourceRecord.objects.for_org(org).count() == 1


def test_webhook_is_rate_limited(org: Organization, branch: Branch, monkeypatch: Any) -> None:
    from clinicflow.imports.yclients import views

    monkeypatch.setattr(views, "RATE", (2, 60))
    _link, secret = link_create(org=org, branch=branch)
    client = Client()
    codes = [
        _post(client, secret, {"resource": "client", "status": "delete", "data": {"id": 1}}).status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]


@pytest.mark.parametrize("payload", [[], {"data": "x"}, {"success": True, "data": [None]}])
def test_malformed_responses_are_refused(org: Organization, branch: Branch, payload: Any) -> None:
    result = yclients_import(org=org, branch=branch, kind="clients", payload=payload)
    assert result.created == 0 and (result.errors or payload == [])


def test_command_imports_yclients_json(org: Organization, branch: Branch, tmp_path: Any) -> None:
    import io

    from django.core.management import call_command

    (tmp_path / "clients.json").write_text(json.dumps(CLIENTS), encoding="utf-8")
    (tmp_path / "records.json").write_text(json.dumps(RECORDS), encoding="utf-8")
    out = io.StringIO()
    call_command("import", "patients", str(tmp_path / "clients.json"), "--org", "demo", stdout=out)
    call_command("import", "visits", str(tmp_path / "records.json"), "--org", "demo", stdout=out)
    assert out.getvalue().splitlines() == [
        "done: created 2, updated 0, unchanged 0",
        "done: created 1, updated 0, unchanged 0; doctors created: 1, services created: 1",
    ]


def test_manager_creates_a_webhook_address_shown_once(org: Organization, branch: Branch, web: Any) -> None:
    import re

    page = web("manager").post("/imports/yclients-webhook/", {"branch": str(branch.pk), "company_id": "4564"})
    assert page.status_code == 200
    url = re.search(r"http://testserver(/hooks/yclients/[\w-]+)", page.content.decode())
    assert url is not None
    resp = Client().post(
        url.group(1),
        json.dumps({"resource": "client", "status": "create", "data": CLIENTS["data"][0]}),
        content_type="application/json",
    )  # type: ignore[index]
    assert resp.json()["result"] == "created"
    assert url.group(1) not in web("manager").get("/imports/").content.decode()
    assert web("frontdesk").post("/imports/yclients-webhook/", {}).status_code == 403
