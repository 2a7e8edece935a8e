"""The wallet API: balances, ledger lines, money-moving calls with idempotency keys, refusals naming
their field, roles and tenant isolation."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import IdempotencyKey, Posting, Transaction
from clinicflow.ledger.tests.factories import make_patient, make_plan, make_program, patient_balance

pytestmark = pytest.mark.django_db
Api = Callable[[str], Client]


def _post(client: Client, url: str, body: dict[str, Any], key: str | None = "k-1") -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def test_top_up_then_wallet_and_ledger(api: Api, org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    make_plan(org)
    client = api("frontdesk")
    r = _post(
        client,
        f"/api/v1/patients/{patient.pk}/wallet/top-up",
        {"amount": "50000", "currency": "RUB", "plan": "sv-50"},
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind"] == "top_up"
    assert sorted((p["account"], p["amount"]) for p in body["postings"]) == [
        ("bonus", "5000.00"), ("bonus_issued", "-5000.00"), ("cash", "-50000.00"), ("money", "50000.00"),
    ]  # fmt: skip
    wallet = client.get(f"/api/v1/patients/{patient.pk}/wallet").json()
    balances = {(b["kind"], b["unit"]): b for b in wallet["balances"]}
    assert balances[("money", "RUB")]["balance"] == "50000.00"
    assert balances[("bonus", "RUB")]["spendable"] == "5000.00"
    assert len(balances[("bonus", "RUB")]["expiring"]) == 1
    assert wallet["points"] == 0
    lines = client.get(f"/api/v1/patients/{patient.pk}/ledger").json()
    assert sorted(line["account"] for line in lines) == ["bonus", "money"]
    assert {line["balance_after"] for line in lines} == {"50000.00", "5000.00"}


def test_the_same_key_and_request_replays_the_first_answer(
    api: Api, org: Organization, branch: Branch
) -> None:
    patient = make_patient(org)
    client = api("frontdesk")
    url = f"/api/v1/patients/{patient.pk}/wallet/top-up"
    first = _post(client, url, {"amount": "100", "currency": "RUB"}, key="same")
    second = _post(client, url, {"amount": "100", "currency": "RUB"}, key="same")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.content == second.content
    assert Transaction.objects.for_org(org).count() == 1
    assert patient_balance(org, patient, "money") == Decimal("100.00")


def test_the_same_key_with_another_request_is_a_409(api: Api, org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    client = api("frontdesk")
    url = f"/api/v1/patients/{patient.pk}/wallet/top-up"
    assert _post(client, url, {"amount": "100", "currency": "RUB"}, key="k").status_code == 201
    again = _post(client, url, {"amount": "101", "currency": "RUB"}, key="k")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "idempotency_key_reused"
    assert again.json()["error"]["fields"] == {"Idempotency-Key": ["used for another request"]}
    other = _post(
        client, f"/api/v1/patients/{patient.pk}/wallet/spend", {"amount": "100", "currency": "RUB"}, key="k"
    )
    assert other.status_code == 409
    assert Transaction.objects.for_org(org).count() == 1


def test_a_refusal_is_replayed_too_and_posts_nothing(api: Api, org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    client = api("frontdesk")
    url = f"/api/v1/patients/{patient.pk}/wallet/spend"
    first = _post(client, url, {"amount": "5", "currency": "RUB"}, key="no-money")
    assert first.status_code == 409
    assert first.json()["error"]["fields"] == {"amount": ["exceeds the balance"]}
    assert _post(client, url, {"amount": "5", "currency": "RUB"}, key="no-money").content == first.content
    assert Posting.objects.for_org(org).count() == 0


def test_keys_are_scoped_per_organisation(
    api: Api, org: Organization, other_org: Organization, branch: Branch, other_branch: Branch
) -> None:
    mine, theirs = make_patient(org), make_patient(other_org)
    a = _post(
        api("frontdesk"),
        f"/api/v1/patients/{mine.pk}/wallet/top-up",
        {"amount": "1", "currency": "RUB"},
        key="shared",
    )
    b = _post(
        api("outsider"),
        f"/api/v1/patients/{theirs.pk}/wallet/top-up",
        {"amount": "1", "currency": "CNY"},
        key="shared",
    )
    assert (a.status_code, b.status_code) == (201, 201)
    assert IdempotencyKey.objects.filter(key="shared").count() == 2


def test_a_missing_idempotency_key_is_refused_by_name(api: Api, org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    r = _post(
        api("frontdesk"),
        f"/api/v1/patients/{patient.pk}/wallet/top-up",
        {"amount": "1", "currency": "RUB"},
        key=None,
    )
    assert r.status_code == 422
    assert list(r.json()["error"]["fields"]) == ["Idempotency-Key"]
    assert Transaction.objects.for_org(org).count() == 0


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"amount": "-1", "currency": "RUB"}, "amount", 422),
        ({"amount": "0", "currency": "RUB"}, "amount", 422),
        ({"amount": "1.005", "currency": "RUB"}, "amount", 422),
        ({"amount": "1", "currency": "EUR"}, "currency", 422),
        ({"amount": "1", "currency": "RUB", "plan": "nope"}, "plan", 422),
        ({"currency": "RUB"}, "amount", 422),
    ],
)
def test_bad_top_up_input_is_a_4xx_naming_the_field(
    api: Api, org: Organization, branch: Branch, body: dict[str, str], field: str, status: int
) -> None:
    patient = make_patient(org)
    r = _post(api("frontdesk"), f"/api/v1/patients/{patient.pk}/wallet/top-up", body)
    assert r.status_code == status, r.content
    assert field in r.json()["error"]["fields"]
    assert Transaction.objects.for_org(org).count() == 0


def test_points_redeem_and_give(api: Api, org: Organization, branch: Branch) -> None:
    make_program(org, default_rate=Decimal("0.1"))
    patient, friend = make_patient(org), make_patient(org, first_name="Olga")
    client = api("frontdesk")
    base = f"/api/v1/patients/{patient.pk}"
    assert (
        _post(client, f"{base}/wallet/top-up", {"amount": "1000", "currency": "RUB"}, key="1").status_code
        == 201
    )
    assert (
        _post(client, f"{base}/wallet/spend", {"amount": "1000", "currency": "RUB"}, key="2").status_code
        == 201
    )
    assert patient_balance(org, patient, "points", "PTS") == Decimal(100)
    r = _post(client, f"{base}/points/redeem", {"points": 30, "currency": "RUB"}, key="3")
    assert r.status_code == 201, r.content
    assert patient_balance(org, patient, "bonus") == Decimal("30.00")
    r = _post(client, f"{base}/points/give", {"to_patient": str(friend.pk), "points": 50}, key="4")
    assert r.status_code == 201, r.content
    assert patient_balance(org, friend, "points", "PTS") == Decimal(50)
    too_many = _post(client, f"{base}/points/give", {"to_patient": str(friend.pk), "points": 21}, key="5")
    assert too_many.status_code == 409
    assert list(too_many.json()["error"]["fields"]) == ["points"]
    assert patient_balance(org, patient, "points", "PTS") == Decimal(20)


def test_points_cannot_be_given_to_another_organisations_patient(
    api: Api, org: Organization, other_org: Organization, branch: Branch
) -> None:
    make_program(org)
    patient, stranger = make_patient(org), make_patient(other_org)
    client = api("frontdesk")
    r = _post(
        client, f"/api/v1/patients/{patient.pk}/points/give", {"to_patient": str(stranger.pk), "points": 1}
    )
    assert r.status_code == 422
    assert list(r.json()["error"]["fields"]) == ["to_patient"]
    assert Transaction.objects.for_org(org).count() == 0
    assert Transaction.objects.for_org(other_org).count() == 0


def test_another_organisations_patient_is_a_404_everywhere(
    api: Api, org: Organization, other_org: Organization, branch: Branch
) -> None:
    stranger = make_patient(other_org)
    client = api("owner")
    base = f"/api/v1/patients/{stranger.pk}"
    assert client.get(f"{base}/wallet").status_code == 404
    assert client.get(f"{base}/ledger").status_code == 404
    for path, body in [
        ("wallet/top-up", {"amount": "1", "currency": "RUB"}),
        ("wallet/spend", {"amount": "1", "currency": "RUB"}),
        ("points/redeem", {"points": 1, "currency": "RUB"}),
        ("points/give", {"to_patient": str(stranger.pk), "points": 1}),
    ]:
        assert _post(client, f"{base}/{path}", body).status_code == 404
    assert Transaction.objects.count() == 0


def test_roles_without_the_wallet_permissions_get_403(api: Api, org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    assert api("marketer").get(f"/api/v1/patients/{patient.pk}/wallet").status_code == 403
    r = _post(
        api("doctor"), f"/api/v1/patients/{patient.pk}/wallet/top-up", {"amount": "1", "currency": "RUB"}
    )
    assert r.status_code == 403
    assert Transaction.objects.for_org(org).count() == 0


def test_membership_plans_lists_the_plans_on_sale(
    api: Api, org: Organization, other_org: Organization
) -> None:
    make_plan(org)
    make_plan(org, code="gone", is_active=False)
    make_plan(other_org, code="theirs", currency="CNY")
    plans = api("manager").get("/api/v1/membership-plans").json()
    assert [(p["code"], p["kind"], p["price"], p["credit"]) for p in plans] == [
        ("sv-50", "stored_value", "50000.00", "55000.00")
    ]
