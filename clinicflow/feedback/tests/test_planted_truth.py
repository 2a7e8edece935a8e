"""Planted truth (issue #15), each on one mid-size run of 8 months.

- NPS: the mid scenario as planted (doctors of different outcome quality, over-treatment and
  over-promising). Each doctor's NPS in the report lies within its interval of the planted expected
  NPS (``truth_feedback.doctor_nps_truth``: exact under the engine's formula, given who treated, who
  consulted and which visits had a complication). The intervals are honest about the two things a
  plain 95% interval per doctor ignores: they hold jointly for all doctors (Bonferroni: each at
  1 − 0.05 / doctors) and a patient's answers share their expectation (the sampling sd is found
  by drawing the doctor's answers again under the planted model, ``DoctorNps.se``).
- Response rate: the survey response report recovers the planted ``satisfaction.survey_response``
  (every sent survey is written, answered or not) within sampling error.
- Expectation gap (``truth_feedback.gap_scenario``: equal outcome quality across doctors,
  over-promising only where the default clinic plants it strongly): the consultants flagged by
  ``expectation_gap`` are exactly the planted over-promisers.

The checks hold for any seed (verified on several); the test runs one."""

from __future__ import annotations

import datetime as dt
import math
from statistics import NormalDist
from typing import Any

import pytest

from clinicflow.analytics.reports.feedback import gap_rows, response_rows, satisfaction_rows
from clinicflow.conftest import module_data
from clinicflow.core.models import Organization, Region
from clinicflow.core.services import organization_create
from clinicflow.feedback.models import Survey, SurveyKind
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario
from clinicflow.simulator.truth_feedback import doctor_nps_truth, gap_scenario, over_promisers

SEED = 7
MONTHS = {"clinic": {"months": 8}}
pytestmark = pytest.mark.django_db
ALL_TIME = (dt.date(2000, 1, 1), dt.date(2100, 1, 1))
SETTLED_BY_DAYS = 5  # a survey is answered within three days of its link, or not at all


def _org(slug: str) -> Organization:
    return organization_create(name=slug, slug=slug, country="RU", currency="RUB", data_region=Region.RU)


@pytest.fixture(scope="module")
def planted(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """One run of the mid scenario as planted: the NPS and response-rate checks read it."""
    with module_data(django_db_blocker):  # read once, then rolled back
        org = _org("planted-nps")
        scn = load_scenario("mid", overrides=MONTHS)
        simulate_org(org=org, scenario=scn, seed=SEED)
        nps = satisfaction_rows(org=org, date_from=ALL_TIME[0], date_to=ALL_TIME[1], group="doctor")
        truth = doctor_nps_truth(org=org, scn=scn)
        # surveys sent by the run's last days: each has had its three days to be answered
        response = response_rows(
            org=org, date_from=ALL_TIME[0], date_to=scn.end_date - dt.timedelta(days=SETTLED_BY_DAYS)
        )
        surveys = Survey.objects.for_org(org)
        kinds = {
            (kind, answered)
            for kind, answered in (
                (s.kind, s.answered_at is not None) for s in surveys.only("kind", "answered_at").iterator()
            )
        }
    return scn, nps, truth, response, kinds


@pytest.fixture(scope="module")
def gap(django_db_setup: Any, django_db_blocker: Any) -> Any:
    with module_data(django_db_blocker):
        org = _org("planted-gap")
        scn = gap_scenario(MONTHS)
        simulate_org(org=org, scenario=scn, seed=SEED)
        rows = gap_rows(org=org, date_from=ALL_TIME[0], date_to=ALL_TIME[1], group="consultant")
    return scn, rows


def test_each_doctors_nps_is_within_its_interval_of_the_planted_nps(planted: Any) -> None:
    scn, rows, truth, _response, _kinds = planted
    by_name = {r["group"]: r for r in rows}
    assert set(by_name) == set(truth) == {d.name for d in scn.doctors}
    z = NormalDist().inv_cdf(1 - 0.05 / (2 * len(truth)))  # Bonferroni over the doctors
    misses = []
    for name, t in truth.items():
        row = by_name[name]
        # the report's NPS is the one checked (the truth's realised value is the same answers')
        assert row["answers"] == t.answers >= 50
        assert row["nps"] == pytest.approx(t.realised, abs=0.051)
        if abs(row["nps"] - t.planted) > z * t.se:
            misses.append(f"{name}: planted {t.planted:.1f}, report {row['nps']} ± {z * t.se:.1f}")
    assert misses == []
    # the planted NPS differ enough between doctors for the check to tell them apart
    planted_values = sorted(t.planted for t in truth.values())
    assert planted_values[-1] - planted_values[0] > 40


def test_the_response_rate_report_recovers_the_planted_response_rate(planted: Any) -> None:
    scn, _rows, _truth, response, kinds = planted
    # every sent survey is written: after the visit and when the result has settled, answered or not
    assert kinds == {(k, a) for k in (SurveyKind.AFTER_VISIT, SurveyKind.SETTLED) for a in (True, False)}
    surveys = sum(r["surveys"] for r in response)
    answered = sum(r["answered"] for r in response)
    assert sum(r["sent"] for r in response) == surveys > 2000
    p = scn.satisfaction["survey_response"]
    rate = answered / surveys
    assert abs(rate - p) <= 3.29 * math.sqrt(p * (1 - p) / surveys), (rate, p, surveys)
    for r in response:
        assert r["response_rate"] == pytest.approx(r["answered"] / r["surveys"], abs=0.001)


def test_flagged_consultants_are_exactly_the_planted_over_promisers(gap: Any) -> None:
    scn, rows = gap
    flagged = {r["group"] for r in rows if r["flagged"]}
    assert len(over_promisers(scn)) == 2
    assert flagged == over_promisers(scn), [(r["group"], r["gap"], r["p_holm"]) for r in rows]
