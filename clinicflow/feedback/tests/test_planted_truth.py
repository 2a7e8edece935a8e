"""Planted truth (issue #15) on one mid-size run (``truth_feedback.gap_scenario``: the mid scenario
with equal outcome quality and over-treatment across doctors, over-promising only where the default
clinic plants it strongly): each doctor's NPS in the report lies within its 95% interval of the
planted expected NPS (``truth_feedback.planted_nps_mc``, Monte Carlo over the engine's formula), and
the consultants flagged by ``expectation_gap`` are exactly the planted over-promisers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from clinicflow.analytics.reports.feedback import gap_rows, satisfaction_rows
from clinicflow.conftest import module_data
from clinicflow.core.models import Organization, Region
from clinicflow.core.services import organization_create
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.truth_feedback import gap_scenario, over_promisers, planted_nps_mc

SEED = 16
pytestmark = pytest.mark.django_db
ALL_TIME = (dt.date(2000, 1, 1), dt.date(2100, 1, 1))


def _org(slug: str) -> Organization:
    return organization_create(name=slug, slug=slug, country="RU", currency="RUB", data_region=Region.RU)


@pytest.fixture(scope="module")
def simulated(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One run of the gap scenario (the mid-size clinic, 14 months, outcome quality equal across
    doctors, two over-promising consultants): both checks read it."""
    with module_data(django_db_blocker):  # read once, then rolled back
        org = _org("planted-feedback")
        scn = gap_scenario()
        simulate_org(org=org, scenario=scn, seed=SEED)
        nps = satisfaction_rows(org=org, date_from=ALL_TIME[0], date_to=ALL_TIME[1], group="doctor")
        gaps = gap_rows(org=org, date_from=ALL_TIME[0], date_to=ALL_TIME[1], group="consultant")
    return scn, nps, gaps


def test_each_doctors_nps_is_within_its_interval_of_the_planted_nps(simulated: Any) -> None:
    scn, rows, _gaps = simulated
    by_name = {r["group"]: r for r in rows}
    assert set(by_name) == {d.name for d in scn.doctors}
    misses = []
    for d, doc in enumerate(scn.doctors):
        row = by_name[doc.name]
        planted = planted_nps_mc(scn, d)
        assert row["answers"] >= 50
        if not row["nps_low"] <= planted <= row["nps_high"]:
            misses.append(
                f"{doc.name}: planted {planted:.1f}, report {row['nps']} [{row['nps_low']}, {row['nps_high']}]"
            )
    assert misses == [], [(r["group"], r["nps"], r["answers"]) for r in rows]


def test_flagged_consultants_are_exactly_the_planted_over_promisers(simulated: Any) -> None:
    scn, _nps, rows = simulated
    flagged = {r["group"] for r in rows if r["flagged"]}
    assert len(over_promisers(scn)) == 2
    assert flagged == over_promisers(scn), [(r["group"], r["gap"], r["p_holm"]) for r in rows]
