"""Planted truth of the feedback checks: each doctor's expected NPS by Monte Carlo over the engine's
survey formula (``engine.visits.Visits._surveys``), and a scenario in which the expectation gap's
flags are well posed.

The engine scores an answer as: result = quality − over_treatment × over_treatment_penalty −
complication × complication_penalty + N(0, noise_sd); the patient's expectation, drawn at the
consultation, is N(expectation_mean + the consultant's over_promise, expectation_sd); z = result −
expectation; NPS = clip(round(nps_center + nps_slope × z), 0, 10). The draws below follow it with the
doctor as their own consultant (a converted patient's course stays with the consultant) and a
complication rate ``complication`` (the engine's per-category rates are below 2%: 0 by default).

The gap scenario: the mid-size scenario with every doctor's outcome quality and over-treatment
equal (so the rated result does not depend on the doctor) and over-promising kept only where the
default clinic plants it strongly (over_promise ≥ ``OVER_PROMISE_MIN``: doctors 2 and 7, 1.5 and
1.2 points); the others promise nothing extra (0). The consultants flagged by the expectation-gap
report must then be exactly the over-promisers."""

from __future__ import annotations

from typing import Any

import numpy as np

from clinicflow.simulator.engine.visits import DETRACTOR_NPS, PROMOTER_NPS
from clinicflow.simulator.scenario import Scenario, load_scenario
from clinicflow.simulator.scenario.files import DEFAULT_SCENARIO, _read_toml

OVER_PROMISE_MIN = 1.0
EQUAL_QUALITY = 7.4
EQUAL_OVER_TREATMENT = 0.1


def planted_nps_mc(
    scn: Scenario, d: int, *, draws: int = 400_000, seed: int = 0, complication: float = 0.0
) -> float:
    """The expected NPS of doctor ``d``'s answers under the engine's formula (Monte Carlo)."""
    sat, doc = scn.satisfaction, scn.doctors[d]
    rng = np.random.default_rng(seed)
    expectation = rng.normal(sat["expectation_mean"] + doc.over_promise, sat["expectation_sd"], draws)
    result = (
        doc.quality
        - doc.over_treatment * sat["over_treatment_penalty"]
        - (rng.random(draws) < complication) * sat["complication_penalty"]
        + rng.normal(0, sat["noise_sd"], draws)
    )
    nps = np.clip(np.round(sat["nps_center"] + sat["nps_slope"] * (result - expectation)), 0, 10)
    return float(100 * ((nps >= PROMOTER_NPS).mean() - (nps <= DETRACTOR_NPS).mean()))


def over_promisers(scn: Scenario) -> set[str]:
    """The names of the doctors planted as over-promising consultants."""
    return {d.name for d in scn.doctors if d.over_promise >= OVER_PROMISE_MIN}


def gap_scenario_overrides() -> dict[str, Any]:
    doctors = []
    for raw in _read_toml(DEFAULT_SCENARIO)["doctors"]:
        doc = dict(raw)
        doc["quality"] = EQUAL_QUALITY
        doc["over_treatment"] = EQUAL_OVER_TREATMENT
        if float(doc.get("over_promise", 0.0)) < OVER_PROMISE_MIN:
            doc["over_promise"] = 0.0
        doctors.append(doc)
    return {"doctors": doctors}


def gap_scenario(overrides: dict[str, Any] | None = None) -> Scenario:
    """The mid-size scenario with the gap overrides (and the caller's, e.g. fewer months)."""
    over = gap_scenario_overrides()
    for key, value in (overrides or {}).items():
        over[key] = value
    return load_scenario("mid", overrides=over)
