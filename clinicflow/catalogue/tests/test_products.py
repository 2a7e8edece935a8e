"""Packaged products: ``GET/POST /api/v1/products``, ``GET /api/v1/products/{product_id}``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from clinicflow.catalogue.models import Product, Service
from clinicflow.catalogue.product_services import line_create
from clinicflow.core.models import Organization

pytestmark = pytest.mark.django_db


def _post(client: Client, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/products", json.dumps(body), content_type="application/json")


def test_a_course_at_a_package_price(
    api: Callable[[str], Client], org: Organization, laser: Service, consult: Service
) -> None:
    line_create(org=org, actor=None, code="laser", name="Laser rejuvenation", category="laser")
    body = {
        "code": "laser-course",
        "name": "Laser course",
        "line": "laser",
        "price": "45000.00",
        "items": [{"service": str(laser.pk), "sessions": 4}, {"service": str(consult.pk)}],
    }
    r = _post(api("manager"), body)
    assert r.status_code == 201, r.content
    made = r.json()
    assert made["line"] == "laser" and made["currency"] == "RUB" and made["price"] == "45000.00"
    assert sorted((i["service_code"], i["sessions"]) for i in made["items"]) == [
        ("consult", 1),
        ("laser-face", 4),
    ]
    assert [p["code"] for p in api("doctor").get("/api/v1/products").json()] == ["laser-course"]
    assert api("doctor").get(f"/api/v1/products/{made['id']}").json()["name"] == "Laser course"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"items": []}, "items"),
        ({"price": "-1"}, "price"),
        ({"code": "Bad code!"}, "code"),
        ({"line": "nope"}, "line"),
        ({"items": [{"service": "00000000-0000-0000-0000-000000000000"}]}, "items"),
    ],
)
def test_bad_products_are_refused(
    api: Callable[[str], Client], org: Organization, laser: Service, change: dict[str, Any], field: str
) -> None:
    body = {"code": "c", "name": "C", "price": "1000", "items": [{"service": str(laser.pk)}], **change}
    r = _post(api("manager"), body)
    assert r.status_code == 422 and field in r.json()["error"]["fields"], r.content
    assert not Product.objects.for_org(org).exists()


def test_another_organisations_product_is_a_404(
    api: Callable[[str], Client], org: Organization, other_org: Organization, foreign: Service
) -> None:
    from clinicflow.catalogue.product_services import ItemIn, product_create
    from clinicflow.core.money import Money

    theirs = product_create(
        org=other_org,
        actor=None,
        code="x",
        name="Secret package",
        price=Money.of("1", "CNY"),
        items=[ItemIn(service_id=str(foreign.pk))],
    )
    r = api("owner").get(f"/api/v1/products/{theirs.pk}")
    assert r.status_code == 404 and "Secret" not in r.content.decode()
    assert (
        _post(
            api("manager"), {"code": "c", "name": "C", "price": "1", "items": [{"service": str(foreign.pk)}]}
        ).status_code
        == 422
    )
    assert api("frontdesk").post("/api/v1/products", "{}", content_type="application/json").status_code in (
        403,
        422,
    )
