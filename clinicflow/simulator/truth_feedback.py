"""Planted truth of the feedback checks: each doctor's expected NPS under the engine's survey formula
(``engine.visits.Visits._surveys``), the sampling error of the doctor's NPS, and a scenario in which
the expectation gap's flags are well posed.

The engine scores an answer as: result = quality − over_treatment × over_treatment_penalty −
complication × complication_penalty + N(0, noise_sd); the patient's expectation, drawn once at their
consultation, is N(expectation_mean + the consultant's over_promise, expectation_sd); z = result −
expectation; NPS = clip(round(nps_center + nps_slope × z), 0, 10). So z is normal with mean μ = the
doctor's outcome − the consultant's expected expectation and sd √(noise_sd² + expectation_sd²), and an
answer is a promoter when nps_center + nps_slope × z ≥ 8.5, a detractor when it is < 6.5: its
expected score (+1 / 0 / −1) is P(promoter) − P(detractor), exactly (normal CDF, no Monte Carlo).

A doctor's planted NPS = 100 × the mean expected score of their answers, given who treated (the
doctor), who consulted the patient (the answer's consultant: an over-promiser's patients expect more
whoever treats them) and whether the visit had a complication — the answer's covariates, not its
outcome. The realised NPS differs from it by sampling error only. Since one patient's answers share
their expectation, that error is larger than the multinomial one of the report's interval: its sd
(``DoctorNps.se``) is found by drawing the doctor's answers again under the planted model, each
patient with one expectation for all their answers.

The gap scenario: the mid-size scenario with every doctor's outcome quality and over-treatment
equal (so the rated result does not depend on the doctor) and over-promising kept only where the
default clinic plants it strongly (over_promise ≥ ``OVER_PROMISE_MIN``: doctors 2 and 7, 1.5 and
1.2 points); the others promise nothing extra (0). The consultants flagged by the expectation-gap
report must then be exactly the over-promisers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr

from clinicflow.clinical.models import Complication
from clinicflow.core.models import Organization
from clinicflow.feedback.models import DETRACTOR_MAX, PROMOTER_MIN, SurveyAnswer
from clinicflow.simulator.engine.visits import DETRACTOR_NPS, PROMOTER_NPS
from clinicflow.simulator.scenario import Scenario, load_scenario
from clinicflow.simulator.scenario.files import DEFAULT_SCENARIO, _read_toml

OVER_PROMISE_MIN = 1.0
EQUAL_QUALITY = 7.4
EQUAL_OVER_TREATMENT = 0.1
assert (PROMOTER_NPS, DETRACTOR_NPS) == (PROMOTER_MIN, DETRACTOR_MAX)


def _params(scn: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Per doctor: the mean result they achieve, and the expectation their consultations plant."""
    sat, docs = scn.satisfaction, scn.doctors
    outcome = np.array([d.quality - d.over_treatment * sat["over_treatment_penalty"] for d in docs])
    promised = np.array([sat["expectation_mean"] + d.over_promise for d in docs])
    return outcome, promised


def _expectation(scn: Scenario, consultant: np.ndarray) -> np.ndarray:
    """The mean expectation of patients consulted by ``consultant`` (−1: none, no over-promise)."""
    _outcome, promised = _params(scn)
    mean = scn.satisfaction["expectation_mean"]
    out: np.ndarray = np.where(consultant >= 0, promised[np.maximum(consultant, 0)], mean)
    return out


def _thresholds(scn: Scenario) -> tuple[float, float]:
    """The z (result − expectation) at which an answer becomes a promoter, and stops being a detractor."""
    sat = scn.satisfaction
    return (
        (PROMOTER_NPS - 0.5 - sat["nps_center"]) / sat["nps_slope"],
        (DETRACTOR_NPS + 0.5 - sat["nps_center"]) / sat["nps_slope"],
    )


def expected_scores(
    scn: Scenario, doctor: np.ndarray, consultant: np.ndarray, complication: np.ndarray
) -> np.ndarray:
    """Each answer's expected NPS score (P(promoter) − P(detractor)) under the engine's formula, from
    the treating doctor's and the consultant's indexes (−1: no consultation, no over-promise) and
    whether the visit had a complication."""
    sat = scn.satisfaction
    outcome, _promised = _params(scn)
    mu = outcome[doctor] - complication * sat["complication_penalty"] - _expectation(scn, consultant)
    sd = math.hypot(sat["noise_sd"], sat["expectation_sd"])
    promoter_z, detractor_z = _thresholds(scn)
    out: np.ndarray = (1.0 - ndtr((promoter_z - mu) / sd)) - ndtr((detractor_z - mu) / sd)
    return out


def _sampling_sd(
    scn: Scenario, d: int, patient: np.ndarray, expect: np.ndarray, complication: np.ndarray, reps: int
) -> float:
    """The sampling sd of doctor ``d``'s NPS under the engine's formula, for the realised answers
    (``patient``: each answer's patient, 0..k−1, with ``expect`` the mean expectation of each): the
    answers are drawn again ``reps`` times, one expectation per patient shared by their answers."""
    sat = scn.satisfaction
    outcome, _promised = _params(scn)
    promoter_z, detractor_z = _thresholds(scn)
    rng = np.random.default_rng(d)
    expectation = expect + rng.normal(0, sat["expectation_sd"], (reps, expect.size))
    z = (
        outcome[d]
        - complication * sat["complication_penalty"]
        - expectation[:, patient]
        + rng.normal(0, sat["noise_sd"], (reps, patient.size))
    )
    nps = 100 * ((z >= promoter_z).mean(axis=1) - (z < detractor_z).mean(axis=1))
    return float(nps.std(ddof=1))


@dataclass(frozen=True)
class DoctorNps:
    planted: float  # 100 × the mean expected score of the doctor's answers
    realised: float  # 100 × the mean score (the report's NPS, unrounded)
    answers: int
    patients: int
    se: float  # the sampling sd of ``realised`` under the planted model, a patient's answers sharing
    # their expectation (by simulation: larger than the multinomial one of the report's interval)


def doctor_nps_truth(*, org: Organization, scn: Scenario, reps: int = 4000) -> dict[str, DoctorNps]:
    """Per doctor (by name, as the NPS report groups them): the planted and the realised NPS of all
    their answers in the organisation, and the realised one's sampling sd under the planted model."""
    index = {d.name: i for i, d in enumerate(scn.doctors)}
    complicated = set(Complication.objects.for_org(org).values_list("appointment_id", flat=True))
    rows = list(
        SurveyAnswer.objects.for_org(org).values_list(
            "doctor__full_name", "consultant__full_name", "patient_id", "nps", "survey__appointment_id"
        )
    )
    doctor = np.array([index[r[0]] for r in rows], dtype=np.int64)
    consultant = np.array([index.get(r[1] or "", -1) for r in rows], dtype=np.int64)
    complication = np.array([r[4] in complicated for r in rows], dtype=bool)
    score = np.array([(r[3] >= PROMOTER_MIN) - (r[3] <= DETRACTOR_MAX) for r in rows], dtype=np.float64)
    expected = expected_scores(scn, doctor, consultant, complication)
    patients = np.unique(np.array([str(r[2]) for r in rows]), return_inverse=True)[1]
    expect = _expectation(scn, consultant)
    out = {}
    for i, doc in enumerate(scn.doctors):
        mine = np.flatnonzero(doctor == i)
        if not mine.size:
            continue
        first, cluster = np.unique(patients[mine], return_index=True, return_inverse=True)[1:]
        out[doc.name] = DoctorNps(
            planted=100 * float(expected[mine].mean()),
            realised=100 * float(score[mine].mean()),
            answers=int(mine.size),
            patients=int(first.size),
            se=_sampling_sd(scn, i, cluster, expect[mine][first], complication[mine], reps),
        )
    return out


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
