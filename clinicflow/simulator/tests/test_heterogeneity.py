"""Patients differ: each draws her own return rate and dropout propensity ([patients.heterogeneity])."""

from __future__ import annotations

import math

import numpy as np
import pytest

from clinicflow.acquisition.ingestion.rules import unique_window
from clinicflow.simulator.engine.core import Simulation
from clinicflow.simulator.scenario import ScenarioError, load_scenario
from clinicflow.simulator.truth import build_truth

WINDOW = unique_window().days
Z = 4.0  # sampling-error bound, in standard errors


def run(**heterogeneity: object) -> Simulation:
    scn = load_scenario(
        overrides={"clinic": {"end_date": "2026-11-22"}, "patients": {"heterogeneity": heterogeneity}}
    )
    sim = Simulation(scn, 17, unique_window_days=WINDOW)
    sim.run(lambda _t, _c: None)
    return sim


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return run()


def test_traits_are_drawn_from_the_planted_gamma_and_beta(sim: Simulation) -> None:
    h = sim.scn.heterogeneity
    assert h.enabled and (h.r, h.alpha, h.a, h.b) == (1.0, 8.0, 0.3, 0.45)
    n = sim.pat.n
    assert n > 3000
    rate, dropout = sim.pat["rate"][:n], sim.pat["dropout"][:n]
    # means within Z standard errors of the planted ones
    rate_sd = math.sqrt(h.r) / h.alpha
    assert abs(rate.mean() - h.r / h.alpha) <= Z * rate_sd / math.sqrt(n)
    s = h.a + h.b
    drop_sd = math.sqrt(h.a * h.b / (s * s * (s + 1)))
    assert abs(dropout.mean() - h.a / s) <= Z * drop_sd / math.sqrt(n)
    # spreads within 10% (about 4 standard errors of a sample sd for the exponential λ, more for the
    # beta)
    assert rate.std() == pytest.approx(rate_sd, rel=0.1)
    assert dropout.std() == pytest.approx(drop_sd, rel=0.1)
    truth = build_truth(sim)["heterogeneity"]
    assert truth["planted"]["r"] == 1.0 and truth["planted"]["dropout"]["mean"] == pytest.approx(0.4)
    assert truth["realised"]["dropout"]["mean"] == pytest.approx(float(dropout.mean()), abs=1e-6)


def test_loyal_patients_come_back_more_and_sooner(sim: Simulation) -> None:
    n = sim.pat.n
    treated = sim.pat["treated"][:n]
    visits = sim.pat["done_visits"][:n].astype(float)
    dropout, rate = sim.pat["dropout"][:n], sim.pat["rate"][:n]
    low, high = dropout < np.quantile(dropout, 0.25), dropout > np.quantile(dropout, 0.75)
    assert visits[treated & low].mean() > 1.3 * visits[treated & high].mean()
    fast, slow = rate > np.quantile(rate, 0.75), rate < np.quantile(rate, 0.25)
    assert visits[treated & fast].mean() > visits[treated & slow].mean()


def test_switched_off_every_patient_has_the_means(sim: Simulation) -> None:
    off = run(enabled=False)
    n = off.pat.n
    assert np.all(off.pat["rate"][:n] == pytest.approx(0.125))
    assert np.all(off.pat["dropout"][:n] == pytest.approx(0.4))
    assert build_truth(off)["heterogeneity"]["realised"]["dropout"]["sd"] == 0.0
    # repeat activity stays of the same order with and without heterogeneity
    on_visits = int(sim.pat["done_visits"][: sim.pat.n].sum())
    off_visits = int(off.pat["done_visits"][:n].sum())
    assert 0.8 < on_visits / off_visits < 1.3


def test_each_patient_keeps_the_doctors_rates_on_average(sim: Simulation) -> None:
    w = sim.world
    n = sim.pat.n
    everyone = np.arange(n)
    for planted in (0.25, 0.45, 0.6, 0.85, 0.95):
        stay = w.stay(np.full(n, planted), everyone)
        assert stay.min() >= 0 and stay.max() <= 1
        sd = float(stay.std())
        assert abs(stay.mean() - planted) <= Z * sd / math.sqrt(n), planted
        # the loyal (low dropout) stay more
        order = np.argsort(w.pat["dropout"][:n])
        gap = stay[order[: n // 4]].mean() - stay[order[-n // 4 :]].mean()
        assert gap > 0.5 * min(planted, 1 - planted), planted


def test_a_bad_parameter_names_its_key() -> None:
    with pytest.raises(ScenarioError, match=r"patients\.heterogeneity\.a: must be"):
        load_scenario(overrides={"patients": {"heterogeneity": {"a": -1}}})
    with pytest.raises(ScenarioError, match=r"patients\.heterogeneity\.enabled"):
        load_scenario(overrides={"patients": {"heterogeneity": {"enabled": "yes"}}})
