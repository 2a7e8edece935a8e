"""The memberships, referrals and points API: sell with an idempotency key, list with benefits left,
freeze and cancel, plans (manager only), referral codes, redeem for a procedure, refusals by field."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from clinicflow.catalogue.tests.factories import make_service
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Membership, Posting
from clinicflow.ledger.tests.factories import make_patient, make_program, patient_balance

pytestmark = pytest.mark.django_db
Api = Callable[[str], Client]
PLAN = {
    "kind": "fee", "name": "Gold", "currency": "RUB", "price": "36500", "period": "year",
    "duration_days": 365, "category_discounts": {"laser": "10"}, "included": {"peel": 1}, "freezable_days": 30,
}  # fmt: skip


def _post(client: Client, url: str, body: dict[str, Any], key: str | None = "k-1") -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def _put(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.put(url, json.dumps(body), content_type="application/json")


def test_manager_creates_a_plan_frontdesk_sells_it_once_per_key(
    api: Api, org: Organization, branch: Branch
) -> None:
    make_service(org, code="peel", price="3000.00", category="peels")
    manager, desk = api("manager"), api("frontdesk")
    url = "/api/v1/membership-plans/gold"
    assert _put(desk, url, PLAN).status_code == 403
    bad = _put(manager, url, {**PLAN, "category_discounts": {"nails": "10"}})
    assert bad.status_code == 422 and "category_discounts" in bad.content.decode()
    r = _put(manager, url, PLAN)
    assert r.status_code == 201, r.content
    assert _put(manager, url, {**PLAN, "freezable_days": 10}).status_code == 200
    patient = make_patient(org)
    url = f"/api/v1/patients/{patient.pk}/memberships"
    first = _post(desk, url, {"plan": "gold"}, key="sell-1")
    again = _post(desk, url, {"plan": "gold"}, key="sell-1")
    assert first.status_code == 201, first.content
    assert again.json() == first.json()
    assert Membership.objects.for_org(org).count() == 1
    body = first.json()
    assert body["state"] == "active" and body["prepaid_left"] == "36500.00"
    assert body["included"] == [{"service": "peel", "per_period": 1, "used": 0}]
    assert patient_balance(org, patient, "prepaid") == 36500
    listed = desk.get(url).json()
    assert [m["id"] for m in listed] == [body["id"]]
    frozen = _post(desk, f"/api/v1/memberships/{body['id']}/freeze", {"days": 45})
    assert frozen.status_code == 422 and "days" in frozen.content.decode()
    frozen = _post(desk, f"/api/v1/memberships/{body['id']}/freeze", {"days": 10})
    assert frozen.status_code == 200 and frozen.json()["state"] == "frozen"
    cancelled = _post(desk, f"/api/v1/memberships/{body['id']}/cancel", {}, key="cancel-1")
    assert cancelled.status_code == 201, cancelled.content
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["refund"] == "36500.00"


def test_selling_needs_a_key_and_a_known_plan(api: Api, org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    desk = api("frontdesk")
    url = f"/api/v1/patients/{patient.pk}/memberships"
    assert _post(desk, url, {"plan": "gold"}, key=None).status_code == 422
    r = _post(desk, url, {"plan": "nope"})
    assert r.status_code == 422 and "plan" in r.content.decode()
    assert not Posting.objects.for_org(org).exists()


def test_referral_code_and_link_through_the_api(api: Api, org: Organization, branch: Branch) -> None:
    anna = make_patient(org, phones=["+7 916 111-11-11"])
    boris = make_patient(org, first_name="Boris", phones=["+7 916 222-22-22"])
    desk = api("frontdesk")
    got = desk.get(f"/api/v1/patients/{anna.pk}/referral").json()
    assert len(got["code"]) == 8 and got["code"] in got["url"]
    self_ref = _post(desk, f"/api/v1/patients/{anna.pk}/referral", {"code": got["code"]})
    assert self_ref.status_code == 422
    ok = _post(desk, f"/api/v1/patients/{boris.pk}/referral", {"code": got["code"]})
    assert ok.status_code == 201 and ok.json()["status"] == "pending"
    listed = desk.get(f"/api/v1/patients/{anna.pk}/referral").json()["referred"]
    assert [r["referred"] for r in listed] == [str(boris.pk)]


def test_points_and_redeem_for_a_procedure(api: Api, org: Organization, branch: Branch) -> None:
    from clinicflow.ledger.services.points import points_earn

    make_program(org)
    make_service(org, code="peel", price="3000.00", category="peels")
    patient = make_patient(org)
    points_earn(org=org, actor=None, patient=patient, paid="40000", currency="RUB", category="laser")
    desk = api("frontdesk")
    got = desk.get(f"/api/v1/patients/{patient.pk}/points").json()
    assert got["held"] == 4000 and got["usable"] == 4000 and len(got["expiring"]) == 1
    url = f"/api/v1/patients/{patient.pk}/points/redeem-service"
    assert _post(desk, url, {"service": "nope"}).status_code == 422
    r = _post(desk, url, {"service": "peel"}, key="r-2")
    assert r.status_code == 201, r.content
    assert desk.get(f"/api/v1/patients/{patient.pk}/points").json()["held"] == 1000


def test_patient_link_is_made_for_staff_and_refused_for_doctors(
    api: Api, org: Organization, branch: Branch
) -> None:
    patient = make_patient(org)
    r = _post(api("frontdesk"), f"/api/v1/patients/{patient.pk}/link", {"days": 7}, key=None)
    assert r.status_code == 201 and "/my/" in r.json()["url"]
    assert _post(api("doctor"), f"/api/v1/patients/{patient.pk}/link", {"days": 7}).status_code == 403
    assert _post(api("frontdesk"), f"/api/v1/patients/{patient.pk}/link", {"days": 0}).status_code == 422
