"""Offers and coupons through the API: bad input is a 4xx naming the field and stores nothing; a code is
redeemed once where once is allowed; the limits per patient and overall hold."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from clinicflow.booking.tests.factories import make_service
from clinicflow.core.models import Branch, Organization
from clinicflow.marketing.models import Coupon, Offer, Redemption
from clinicflow.marketing.services.offers import ALPHABET
from clinicflow.marketing.tests.factories import patient

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()


def _post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json.dumps(body, default=str), content_type="application/json")


def _offer(**kw: Any) -> dict[str, Any]:
    return {
        "name": "Spring laser",
        "kind": "percent",
        "percent": "20",
        "valid_from": TODAY,
        "valid_to": TODAY + dt.timedelta(days=30),
        **kw,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_offer(valid_to=TODAY - dt.timedelta(days=1)), "valid_to"),
        (_offer(percent="120"), "percent"),
        (_offer(percent="0"), "percent"),
        (_offer(kind="fixed", percent=None), "amount"),
        (_offer(kind="free_addon", percent=None), "addon_service"),
        (_offer(per_patient_limit=0), "per_patient_limit"),
        (_offer(branches=["not-a-branch"]), "branch_ids"),
        (_offer(kind="gift"), "kind"),
    ],
)
def test_bad_offers_are_refused_naming_the_field(
    api: Callable[[str], Client], org: Organization, body: dict[str, Any], field: str
) -> None:
    r = _post(api("marketer"), "/api/v1/offers", body)
    assert r.status_code == 422, r.content
    assert field in r.json()["error"]["fields"]
    assert not Offer.objects.for_org(org).exists()


def _checkout(code: str, p: Any, service: Any, branch: Branch, price: str = "10000.00") -> dict[str, Any]:
    return {
        "code": code,
        "patient": str(p.pk),
        "service": str(service.pk),
        "branch": str(branch.pk),
        "price": price,
    }


def test_a_single_use_code_is_redeemed_once(
    api: Callable[[str], Client], org: Organization, branch: Branch
) -> None:
    service = make_service(org)
    ann, bob = patient(org, 1), patient(org, 2)
    offer = _post(api("marketer"), "/api/v1/offers", _offer(per_patient_limit=5)).json()
    batch = _post(api("marketer"), f"/api/v1/offers/{offer['id']}/coupons", {"count": 50}).json()
    assert batch["count"] == 50 and len(set(batch["codes"])) == 50
    assert all(len(c) == 8 and set(c) <= set(ALPHABET) for c in batch["codes"])
    code = batch["codes"][0]
    desk = api("frontdesk")
    check = _post(desk, "/api/v1/coupons/check", _checkout(code, ann, service, branch))
    assert (
        check.status_code == 200
        and check.json()["discount"] == "2000.00"
        and check.json()["to_pay"] == "8000.00"
    )
    assert not Redemption.objects.for_org(org).exists()  # a check counts nothing
    first = _post(desk, "/api/v1/coupons/redeem", _checkout(code.lower(), ann, service, branch))
    assert first.status_code == 201, first.content
    again = _post(desk, "/api/v1/coupons/redeem", _checkout(code, bob, service, branch))
    assert again.status_code == 422 and "code" in again.json()["error"]["fields"]
    assert Redemption.objects.for_org(org).count() == 1
    assert Coupon.objects.for_org(org).get(code=code).used == 1
    assert Offer.objects.for_org(org).get().redeemed == 1


def test_limits_per_patient_and_overall(
    api: Callable[[str], Client], org: Organization, branch: Branch
) -> None:
    service = make_service(org)
    ann, bob, cid = patient(org, 1), patient(org, 2), patient(org, 3)
    offer = _post(
        api("marketer"), "/api/v1/offers", _offer(kind="fixed", percent=None, amount="1500", total_limit=2)
    ).json()
    codes = _post(api("marketer"), f"/api/v1/offers/{offer['id']}/coupons", {"count": 4}).json()["codes"]
    desk = api("frontdesk")
    assert (
        _post(desk, "/api/v1/coupons/redeem", _checkout(codes[0], ann, service, branch)).json()["discount"]
        == "1500.00"
    )
    twice = _post(desk, "/api/v1/coupons/redeem", _checkout(codes[1], ann, service, branch))
    assert twice.status_code == 422 and "patient" in twice.json()["error"]["fields"]
    assert _post(desk, "/api/v1/coupons/redeem", _checkout(codes[2], bob, service, branch)).status_code == 201
    used_up = _post(desk, "/api/v1/coupons/redeem", _checkout(codes[3], cid, service, branch))
    assert used_up.status_code == 422 and "code" in used_up.json()["error"]["fields"]
    assert Redemption.objects.for_org(org).count() == 2


def test_an_offer_outside_its_dates_branches_or_services(
    api: Callable[[str], Client], org: Organization, branch: Branch, branch2: Branch
) -> None:
    laser, peel = make_service(org), make_service(org, code="peel", name="Peel")
    ann = patient(org, 1)
    body = _offer(
        branches=[str(branch.pk)], services=[str(laser.pk)], valid_from=TODAY + dt.timedelta(days=1)
    )
    offer = _post(api("marketer"), "/api/v1/offers", body).json()
    code = _post(api("marketer"), f"/api/v1/offers/{offer['id']}/coupons", {"count": 1}).json()["codes"][0]
    desk = api("frontdesk")
    today = {"day": str(TODAY)}  # the day named: late in the UTC evening the branch's clock is tomorrow
    before = _post(desk, "/api/v1/coupons/check", {**_checkout(code, ann, laser, branch), **today})
    assert "code" in before.json()["error"]["fields"]
    tomorrow = {"day": str(TODAY + dt.timedelta(days=1))}
    assert (
        _post(desk, "/api/v1/coupons/check", {**_checkout(code, ann, laser, branch), **tomorrow}).status_code
        == 200
    )
    r = _post(desk, "/api/v1/coupons/check", {**_checkout(code, ann, laser, branch2), **tomorrow})
    assert r.status_code == 422
    r = _post(desk, "/api/v1/coupons/check", {**_checkout(code, ann, peel, branch), **tomorrow})
    assert "service" in r.json()["error"]["fields"]


def test_only_permitted_roles(api: Callable[[str], Client], org: Organization) -> None:
    assert _post(api("doctor"), "/api/v1/offers", _offer()).status_code == 403
    assert _post(api("frontdesk"), "/api/v1/offers", _offer()).status_code == 403
