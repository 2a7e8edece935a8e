"""Department scorecards: each part is the figure it names (the day facts), each score explains itself
(parts, weights, values, trend), the owner's weights change the score, bad weights are refused naming
the field with nothing stored; the page and API are the owner's only."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from clinicflow.analytics.models import ScorecardWeight
from clinicflow.analytics.owner.facts import rebuild
from clinicflow.analytics.owner.scorecards import part_values, scorecards
from clinicflow.analytics.owner.selectors import day_totals
from clinicflow.core.models import Organization
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 11, 30)


@pytest.fixture
def clinic(org: Organization) -> Organization:
    simulate_org(
        org=org, scenario=load_scenario(overrides={"clinic": {"months": 3, "end_date": str(END)}}), seed=4
    )
    rebuild(org)
    return org


@pytest.mark.django_db
def test_scorecards_explain_themselves_and_follow_the_weights(clinic, api, web) -> None:
    org = clinic
    d0 = END - dt.timedelta(days=27)
    facts = day_totals(org=org, d0=d0, d1=END, branch=None)
    values = part_values(org=org, date_from=d0, date_to=END, branch=None)
    assert values["consultants"]["repeat"] == pytest.approx(facts["returned"] / facts["first_arrived"])
    assert values["doctors"]["no_shows"] == pytest.approx(facts["no_shows"] / facts["appointments"])
    assert set(values["marketing"]) == {"reach", "leads", "cost_per_lead", "cost_per_first"}  # never revenue
    cards = {c.key: c for c in scorecards(org=org, date_from=d0, date_to=END, branch=None)}
    desk = cards["front_desk"]
    scored = [p for p in desk.parts if p.score is not None and p.weight]
    assert scored and desk.score == pytest.approx(
        sum(p.score * p.weight for p in scored) / sum(p.weight for p in scored), abs=0.06
    )
    assert desk.trend is None or desk.trend == pytest.approx(desk.score - desk.previous_score, abs=0.06)
    # only the first part counts once the others weigh nothing
    only = scored[0]
    body = {f"front_desk.{p.key}": (100 if p.key == only.key else 0) for p in desk.parts}
    response = api("owner").put(
        "/api/v1/reports/scorecards/weights", json.dumps({"weights": body}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["weights"][f"front_desk.{only.key}"] == 100
    again = {c.key: c for c in scorecards(org=org, date_from=d0, date_to=END, branch=None)}
    assert again["front_desk"].score == only.score
    # a bad weight names its field; nothing stored
    stored = list(ScorecardWeight.objects.for_org(org).values_list("part", "weight"))
    bad = api("owner").put(
        "/api/v1/reports/scorecards/weights",
        json.dumps({"weights": {"front_desk.callbacks": 5, "front_desk.call_score": 101}}),
        content_type="application/json",
    )
    assert bad.status_code == 422 and "front_desk.call_score" in bad.content.decode()
    assert list(ScorecardWeight.objects.for_org(org).values_list("part", "weight")) == stored
    assert (
        api("marketer")
        .put("/api/v1/reports/scorecards/weights", '{"weights": {}}', content_type="application/json")
        .status_code
        == 403
    )
    # the page shows every department and saves weights from its form
    page = web("owner").get(f"/analytics/owner/scorecards/?from={d0}&to={END}")
    html = page.content.decode()
    assert page.status_code == 200 and "Front desk" in html and "Customer service" in html
    saved = web("owner").post(f"/analytics/owner/scorecards/?from={d0}&to={END}", {"w:doctors.nps": "70"})
    assert saved.status_code == 302
    assert ScorecardWeight.objects.for_org(org).get(department="doctors", part="nps").weight == 70
    refused = web("owner").post("/analytics/owner/scorecards/", {"w:doctors.nps": "abc"})
    assert refused.status_code == 422
    assert web("marketer").get("/analytics/owner/scorecards/").status_code == 403
