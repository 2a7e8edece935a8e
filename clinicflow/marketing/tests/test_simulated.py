"""Planted truth: the simulator sends campaigns with a planted uplift per audience and variant (offer),
and writes it into its truth document (``truth["marketing"]``); the campaign report's uplift over the
holdout recovers the truth's planted uplift within its sampling error, its recipients are the truth's,
and the A/B report calls the larger planted effects significant."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest

from clinicflow.analytics.reports.marketing import ab_rows, campaign_rows
from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.conftest import module_data
from clinicflow.core.models import Organization
from clinicflow.marketing.models import Campaign
from clinicflow.marketing.stats import uplift
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario
from clinicflow.simulator.writers.marketing import AUDIENCE_FILTERS

MONTHS = 14
# lapsed patients hear from the clinic every two months here, for a sample the test can read
MARKETING = {"every_months": 2, "uplift": {"lapsed": {"A": 0.05, "B": 0.15}, "recent": {"A": 0.0, "B": 0.08}}}


@pytest.fixture(scope="module")
def simulated(django_db_setup: Any, django_db_blocker: Any) -> Any:
    from clinicflow.core.services import organization_create

    with module_data(django_db_blocker):
        org = organization_create(name="Mkt Sim", slug="mkt-sim", country="RU", currency="RUB")
        scn = load_scenario(
            "mid", overrides={"clinic": {"months": MONTHS, "end_date": "2026-06-30"}, "marketing": MARKETING}
        )
        truth = simulate_org(org=org, scenario=scn, seed=7).truth
        yield org, truth


def _audience(name: str) -> str | None:
    """The simulated audience of a campaign, by its name (the capacity-aware campaign has none)."""
    return next((a for a, (title, _f) in AUDIENCE_FILTERS.items() if name.startswith(title)), None)


@pytest.mark.django_db
def test_the_campaign_report_recovers_the_planted_uplift(simulated: tuple[Organization, Any]) -> None:
    org, truth = simulated
    marketing = truth["marketing"]
    planted = marketing["planted_uplift"]
    assert planted["lapsed"]["B"] == MARKETING["uplift"]["lapsed"]["B"]  # the scenario reached the truth
    assert set(marketing["offers"]) == {"A", "B"}
    assert Campaign.objects.for_org(org).count() >= 8
    rows = campaign_rows(org=org, date_from=dt.date(2024, 1, 1), date_to=dt.date(2026, 6, 30))
    # pooled over the campaigns of each audience: booked / recipients per group
    pooled: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        audience = _audience(r["campaign"])
        if audience is None:
            continue
        p = pooled[(audience, r["group"])]
        p[0] += r["booked"]
        p[1] += r["recipients"]
    # the report's recipients are the truth's, campaign by campaign summed per audience and group
    drawn: dict[tuple[str, str], int] = defaultdict(int)
    for c in marketing["campaigns"]:
        for group, g in c["groups"].items():
            drawn[(c["audience"], group)] += g["recipients"]
            assert g["planted"] == (0.0 if group == "holdout" else planted[c["audience"]][group])
    assert {k: v[1] for k, v in pooled.items()} == dict(drawn)
    # a booking later cancelled is not counted, and a responder who would have booked anyway adds
    # nothing: the expected uplift is the planted one times the kept share times (1 - holdout rate)
    appts = Appointment.objects.for_org(org)
    kept = 1 - appts.filter(status=AppointmentStatus.CANCELLED).count() / appts.count()
    checked = 0
    for audience in ("lapsed", "recent"):
        hb, hn = pooled[(audience, "holdout")]
        assert hn > 300
        for variant in ("A", "B"):
            b, n = pooled[(audience, variant)]
            u = uplift(b, n, hb, hn)
            assert u is not None
            expected = planted[audience][variant] * kept * (1 - hb / hn)
            half = (u.high - u.low) / 2
            print(audience, variant, n, hn, round(u.uplift, 4), round(expected, 4), round(half, 4))
            assert abs(u.uplift - expected) <= half * 1.25, (audience, variant, u, expected)
            checked += 1
    assert checked == 4


@pytest.mark.django_db
def test_the_ab_report_flags_the_large_planted_effect(simulated: tuple[Organization, Any]) -> None:
    org, _truth = simulated
    rows = ab_rows(org=org, date_from=dt.date(2024, 1, 1), date_to=dt.date(2026, 6, 30))
    lapsed_b = [r for r in rows if "lapsed" in r["campaign"] and r["variant"] == "B"]
    assert lapsed_b and all(r["uplift"] > 0 for r in lapsed_b)
    assert sum(str(r["significant"]) == "yes" for r in lapsed_b) >= len(lapsed_b) // 2
