"""Catalogue API: list, read and create services; one error shape; another organisation's id is a 404."""

from __future__ import annotations

import json

import pytest

from clinicflow.booking.tests.factories import make_doctor
from clinicflow.catalogue import services
from clinicflow.catalogue.models import Service

BODY = {
    "code": "peel",
    "name": "Chemical peel",
    "category": "peels",
    "duration_minutes": 45,
    "room_type": "treatment",
    "price": "5500.00",
}
SHAPE = {
    "id",
    "code",
    "name",
    "names",
    "display_name",
    "category",
    "duration_minutes",
    "buffer_minutes",
    "room_type",
    "price",
    "currency",
    "is_first_visit",
    "course_sessions",
    "course_interval_days",
    "is_bookable_online",
}


def post(client, path, body):  # type: ignore[no-untyped-def]
    return client.post(path, json.dumps(body), content_type="application/json")


def test_the_list_keeps_its_shape_and_filters(api, org, laser, consult) -> None:
    r = api("marketer").get("/api/v1/services")
    assert r.status_code == 200
    assert [s["code"] for s in r.json()] == ["consult", "laser-face"]
    assert set(r.json()[1]) == SHAPE and r.json()[1]["price"] == "12000.00"
    services.service_archive(org=org, actor=None, service=consult)
    assert [s["code"] for s in api("doctor").get("/api/v1/services").json()] == ["laser-face"]
    assert [s["code"] for s in api("doctor").get("/api/v1/services", {"active": "false"}).json()] == [
        "consult"
    ]


def test_the_branch_filter_keeps_the_services_the_branch_offers(
    api, org, branch, branch2, laser, consult
) -> None:
    make_doctor(org, branch, [laser], "Dr Petrova")
    assert [s["code"] for s in api("owner").get("/api/v1/services", {"branch": str(branch.pk)}).json()] == [
        "laser-face"
    ]
    assert api("owner").get("/api/v1/services", {"branch": str(branch2.pk)}).json() == []
    bad = api("owner").get("/api/v1/services", {"branch": "nope"})
    assert bad.status_code == 422 and bad.json()["error"]["fields"] == {"branch": ["unknown branch"]}


def test_the_list_query_budget(api, laser, consult, django_assert_num_queries) -> None:
    client = api("manager")
    client.get("/api/v1/services")
    with django_assert_num_queries(2):  # token, services
        assert client.get("/api/v1/services").status_code == 200


def test_one_service_and_another_organisations_is_a_404(api, laser, foreign) -> None:
    r = api("frontdesk").get(f"/api/v1/services/{laser.pk}")
    assert r.status_code == 200 and r.json()["code"] == "laser-face" and set(r.json()) == SHAPE
    for value in (foreign.pk, "nope"):
        r = api("owner").get(f"/api/v1/services/{value}")
        assert r.status_code == 404
        assert r.json() == {"error": {"code": "not_found", "message": "service not found", "fields": {}}}


def test_create_answers_201_with_the_service(api, org) -> None:
    r = post(api("manager"), "/api/v1/services", {**BODY, "follow_on_codes": []})
    assert r.status_code == 201, r.content
    assert r.json()["code"] == "peel" and r.json()["currency"] == "RUB" and r.json()["price"] == "5500.00"
    assert Service.objects.for_org(org).get(code="peel").pk.hex == r.json()["id"].replace("-", "")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "magic"}, "category"),
        ({"price": "12,5x"}, "price"),
        ({"price": "1.005"}, "price"),
        ({"currency": "XYZ"}, "currency"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"code": "has space"}, "code"),
    ],
)
def test_create_refuses_a_bad_field_naming_it(api, org, change, field) -> None:
    r = post(api("owner"), "/api/v1/services", {**BODY, **change})
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error" and list(r.json()["error"]["fields"]) == [field]
    assert Service.objects.for_org(org).count() == 0


def test_create_without_a_required_field_names_it(api, org) -> None:
    body = {k: v for k, v in BODY.items() if k != "name"}
    r = post(api("owner"), "/api/v1/services", body)
    assert r.status_code == 422 and list(r.json()["error"]["fields"]) == ["name"]


@pytest.mark.parametrize("role", ["marketer", "frontdesk", "doctor"])
def test_only_owner_and_manager_create(api, org, role) -> None:
    r = post(api(role), "/api/v1/services", BODY)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert Service.objects.for_org(org).count() == 0


def test_the_other_organisations_list_is_its_own(api, laser, foreign) -> None:
    r = api("outsider").get("/api/v1/services")
    assert [(s["id"], s["currency"]) for s in r.json()] == [(str(foreign.pk), "CNY")]
