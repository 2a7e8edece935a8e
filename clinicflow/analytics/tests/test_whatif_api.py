"""The what-if planner through its API, page and command (issue #18), on a small simulated clinic:
predictions with intervals, levers refused by name, saved scenarios and the hypothesis log per
organisation, the author-or-owner rule, and the seed-004 comparison."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from clinicflow.accounts.roles import Role
from clinicflow.accounts.services import api_token_issue, user_create
from clinicflow.analytics.pricing.models import Hypothesis, PlanScenario
from clinicflow.conftest import module_data
from clinicflow.core.services import organization_create
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 6, 30)
CLINIC = {"months": 14, "end_date": END.isoformat(), "demand_factor": 0.3}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with module_data(django_db_blocker):
        org = organization_create(name="Planner", slug="planner", country="RU", currency="RUB")
        simulate_org(org=org, scenario=load_scenario("mid", overrides={"clinic": CLINIC}), seed=3)
        other = organization_create(name="Other", slug="planner-other", country="RU", currency="RUB")
        users = {
            role: user_create(
                org=org,
                actor=None,
                email=f"{role}@planner.test",
                password="x" * 20,
                role=role,
                validate=False,
            )
            for role in (Role.OWNER, Role.MANAGER, Role.FRONTDESK)
        }
        users["outsider"] = user_create(
            org=other, actor=None, email="o@other.test", password="x" * 20, role=Role.OWNER, validate=False
        )
        yield {"org": org, "other": other, "users": users}


def _api(world: dict[str, Any], who: str) -> Client:
    _, raw = api_token_issue(user=world["users"][who])
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


def _web(world: dict[str, Any], who: str) -> Client:
    client = Client()
    client.force_login(world["users"][who], backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.mark.django_db
def test_a_prediction_has_months_with_intervals_and_the_binding_limit(world) -> None:  # type: ignore[no-untyped-def]
    owner = _api(world, Role.OWNER)
    body = owner.post(
        "/api/v1/whatif/predict",
        {"levers": {"first_visit_price": 2400}, "months": 3},
        content_type="application/json",
    ).json()
    assert body["history_to"] == "2026-05" and body["current"]["first_visit_price"] == "3000.00"
    months = body["prediction"]["months"]
    assert [m["month"] for m in months] == ["2026-06", "2026-07", "2026-08"]
    for m in months:
        assert m["low"]["unique_calls"] <= m["unique_calls"] <= m["high"]["unique_calls"]
        assert float(m["low"]["revenue"]) <= float(m["revenue"]) <= float(m["high"]["revenue"])
        assert m["binding_limit"] in ("demand", "front_desk", "capacity")
    # a price cut brings more calls than the baseline
    assert body["prediction"]["totals"]["unique_calls"] > body["baseline"]["totals"]["unique_calls"]
    assert body["prediction"]["levers"] == {"first_visit_price": "2400"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("levers", "field"),
    [
        ({"channels.tv.monthly_spend": 1000}, "channels.tv.monthly_spend"),
        ({"first_visit_price": "cheap"}, "first_visit_price"),
        ({"first_visit_price": -5}, "first_visit_price"),
        ({"administrators.Nobody.conversion": 0.5}, "administrators.Nobody.conversion"),
        ({"budget": 1}, "budget"),
    ],
)
def test_a_bad_lever_is_a_422_naming_it(world, levers, field) -> None:  # type: ignore[no-untyped-def]
    r = _api(world, Role.OWNER).post(
        "/api/v1/whatif/predict", {"levers": levers}, content_type="application/json"
    )
    assert r.status_code == 422 and field in json.dumps(r.json())


@pytest.mark.django_db
def test_the_front_desk_may_not_plan(world) -> None:  # type: ignore[no-untyped-def]
    assert (
        _api(world, Role.FRONTDESK)
        .post("/api/v1/whatif/predict", {}, content_type="application/json")
        .status_code
        == 403
    )
    assert _web(world, Role.FRONTDESK).get("/analytics/whatif/").status_code == 403


@pytest.mark.django_db
def test_scenarios_are_saved_listed_changed_and_deleted_by_their_author_or_an_owner(world) -> None:  # type: ignore[no-untyped-def]
    manager, owner = _api(world, Role.MANAGER), _api(world, Role.OWNER)
    r = manager.post(
        "/api/v1/whatif/scenarios",
        {"name": "Ads +30%", "levers": {"channels.search_ads.monthly_spend": 400000}, "months": 2},
        content_type="application/json",
    )
    assert r.status_code == 201, r.json()
    sid = r.json()["id"]
    assert r.json()["levers"] == {"channels.search_ads.monthly_spend": "400000"}
    assert len(r.json()["prediction"]["months"]) == 2
    dup = owner.post("/api/v1/whatif/scenarios", {"name": "Ads +30%"}, content_type="application/json")
    assert dup.status_code == 422 and "name" in dup.json()["error"]["fields"]
    assert [s["name"] for s in owner.get("/api/v1/whatif/scenarios").json()] == ["Ads +30%"]
    # another organisation sees nothing of it
    outsider = _api(world, "outsider")
    assert outsider.get(f"/api/v1/whatif/scenarios/{sid}").status_code == 404
    assert outsider.delete(f"/api/v1/whatif/scenarios/{sid}").status_code == 404
    assert outsider.get("/api/v1/whatif/scenarios").json() == []
    upd = manager.put(
        f"/api/v1/whatif/scenarios/{sid}",
        {"name": "Ads +40%", "levers": {"channels.search_ads.monthly_spend": 430000}, "months": 2},
        content_type="application/json",
    )
    assert upd.status_code == 200 and upd.json()["name"] == "Ads +40%"
    # the owner may delete what the manager saved
    assert owner.delete(f"/api/v1/whatif/scenarios/{sid}").status_code == 204
    assert not PlanScenario.objects.filter(pk=sid).exists()


@pytest.mark.django_db
def test_only_the_author_or_an_owner_changes_a_scenario(world) -> None:  # type: ignore[no-untyped-def]
    owner = _api(world, Role.OWNER)
    sid = owner.post("/api/v1/whatif/scenarios", {"name": "Owner's"}, content_type="application/json").json()[
        "id"
    ]
    assert _api(world, Role.MANAGER).delete(f"/api/v1/whatif/scenarios/{sid}").status_code == 403
    assert PlanScenario.objects.filter(pk=sid).exists()
    owner.delete(f"/api/v1/whatif/scenarios/{sid}")


@pytest.mark.django_db
def test_a_hypothesis_carries_the_expected_effect_and_is_measured_after_its_period(world) -> None:  # type: ignore[no-untyped-def]
    owner = _api(world, Role.OWNER)
    sid = owner.post(
        "/api/v1/whatif/scenarios",
        {"name": "Cheaper first visit", "levers": {"first_visit_price": 2500}, "months": 1},
        content_type="application/json",
    ).json()["id"]
    future = owner.post(
        "/api/v1/whatif/hypotheses",
        {"idea": "Cut the price", "start": "2099-01-01", "end": "2099-01-31", "scenario": sid},
        content_type="application/json",
    ).json()
    assert future["expected"]["unique_calls"]["change"].startswith(
        ("1", "2", "3", "4", "5", "6", "7", "8", "9")
    )
    early = owner.post(f"/api/v1/whatif/hypotheses/{future['id']}/measure", content_type="application/json")
    assert early.status_code == 422 and "end" in early.json()["error"]["fields"]
    past = owner.post(
        "/api/v1/whatif/hypotheses",
        {"idea": "Spring", "start": "2026-03-01", "end": "2026-04-30", "scenario": sid},
        content_type="application/json",
    ).json()
    measured = owner.post(
        f"/api/v1/whatif/hypotheses/{past['id']}/measure", content_type="application/json"
    ).json()
    assert measured["status"] == "measured"
    assert [m["month"] for m in measured["measured"]["months"]] == ["2026-03", "2026-04"]
    assert (
        measured["measured"]["unique_calls"]["realised"] > 0
        and "error" in measured["measured"]["unique_calls"]
    )
    decided = owner.post(
        f"/api/v1/whatif/hypotheses/{past['id']}/decide",
        {"decision": "keep"},
        content_type="application/json",
    ).json()
    assert decided["status"] == "decided" and decided["decision"] == "keep"
    assert (
        _api(world, "outsider")
        .post(f"/api/v1/whatif/hypotheses/{past['id']}/measure", content_type="application/json")
        .status_code
        == 404
    )
    bad = owner.post(
        "/api/v1/whatif/hypotheses",
        {"idea": "x", "start": "2026-05-01", "end": "2026-04-01"},
        content_type="application/json",
    )
    assert bad.status_code == 422 and "end" in bad.json()["error"]["fields"]
    for h in Hypothesis.objects.filter(organization=world["org"]):
        assert owner.delete(f"/api/v1/whatif/hypotheses/{h.pk}").status_code == 204
    owner.delete(f"/api/v1/whatif/scenarios/{sid}")


@pytest.mark.django_db
def test_the_page_shows_the_form_the_table_and_the_comparison(world) -> None:  # type: ignore[no-untyped-def]
    web = _web(world, Role.OWNER)
    page = web.get("/analytics/whatif/", {"first_visit_price": "2500", "months": "3"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="whatif-table"' in html and 'id="chart-data"' in html and "2026-08" in html
    assert 'name="channels.search_ads.monthly_spend"' in html and "search_ads.monthly_spend" in html
    bad = web.get("/analytics/whatif/", {"first_visit_price": "abc"})
    assert bad.status_code == 422 and "first_visit_price" in bad.content.decode()
    saved = web.post(
        "/analytics/whatif/scenarios/", {"name": "From the page", "first_visit_price": "2600", "months": "2"}
    )
    assert saved.status_code == 302
    row = PlanScenario.objects.get(organization=world["org"], name="From the page")
    assert row.levers == {"first_visit_price": "2600"} and row.months == 2
    web.post(f"/analytics/whatif/scenarios/{row.pk}/delete/")
    assert not PlanScenario.objects.filter(pk=row.pk).exists()


@pytest.mark.django_db
def test_the_comparison_prices_first_patients_by_a_cut_and_by_each_channel(world) -> None:  # type: ignore[no-untyped-def]
    body = _api(world, Role.OWNER).get("/api/v1/whatif/comparison", {"extra": 5}).json()
    ways = {w["way"]: w for w in body["ways"]}
    assert body["extra"] == 5 and "price" in ways and "search_ads" in ways
    assert float(ways["price"]["value"]) < 3000  # a cut
    assert float(ways["search_ads"]["value"]) > 0


@pytest.mark.django_db
def test_the_command_prints_a_summary_and_json(world) -> None:  # type: ignore[no-untyped-def]
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "analytics",
        "whatif",
        "--org",
        "planner",
        "--months",
        "2",
        "--set",
        "first_visit_price=2500",
        "--compare",
        "5",
        stdout=out,
        stderr=err,
    )
    text = out.getvalue()
    assert "first_visit_price: 3000.00 -> 2500" in text and "Total unique calls" in text and "2026-07" in text
    assert "more first patients a month" in text
    out = io.StringIO()
    call_command("analytics", "whatif", "--org", "planner", "--months", "2", "--json", stdout=out, stderr=err)
    body = json.loads(out.getvalue())
    assert [m["month"] for m in body["months"]] == ["2026-06", "2026-07"]
    assert {"unique_calls", "first_visits", "revenue", "low", "high", "binding_limit"} <= set(
        body["months"][0]
    )
    with pytest.raises(CommandError, match="first_visit_price"):
        call_command(
            "analytics", "whatif", "--org", "planner", "--set", "first_visit_price=x", stdout=out, stderr=err
        )
    with pytest.raises(CommandError, match="expected LEVER=VALUE"):
        call_command(
            "analytics", "whatif", "--org", "planner", "--set", "first_visit_price", stdout=out, stderr=err
        )
    with pytest.raises(CommandError, match="no organisation"):
        call_command("analytics", "whatif", "--org", "nope", stdout=out, stderr=err)


@pytest.mark.django_db
def test_with_a_price_that_never_changed_the_planner_moves_budgets_but_not_the_price(web, org) -> None:  # type: ignore[no-untyped-def]
    from clinicflow.analytics.pricing.services import plan_predict

    flat = {"first_visit_price": {"schedule": [{"month": 0, "price": 2500}]}}
    scn = load_scenario("mid", overrides={"clinic": {"months": 8, "end_date": END.isoformat()}, **flat})
    simulate_org(org=org, scenario=scn, seed=5)
    plan = plan_predict(org=org, levers={"channels.search_ads.monthly_spend": 600000}, months=2)
    assert not plan.model.elasticity.estimated
    assert float(plan.prediction.totals["unique_calls"]) > float(plan.baseline.totals["unique_calls"])
    same = plan_predict(org=org, levers={"first_visit_price": 2000}, months=2)
    assert same.prediction.totals["unique_calls"] == same.baseline.totals["unique_calls"]
    html = web("owner").get("/analytics/whatif/").content.decode()
    assert 'id="no-elasticity"' in html and "never changed" in html


@pytest.mark.django_db
def test_without_history_the_page_says_it_cannot_plan(web) -> None:  # type: ignore[no-untyped-def]
    page = web("owner").get("/analytics/whatif/")
    assert page.status_code == 200 and "cannot plan" in page.content.decode()
    r = Client()
    assert r.get("/analytics/whatif/").status_code == 302  # the login page
