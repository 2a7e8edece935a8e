"""Gamma-Gamma formulas against numerical integration over the patients' rate nu."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from clinicflow.analytics.clv import gammagamma
from clinicflow.analytics.clv.gammagamma import GammaGammaParams
from clinicflow.analytics.clv.special import FitFailed

PARAMS = [
    GammaGammaParams(6.25, 3.74, 15.44),
    GammaGammaParams(1.2, 11.0, 160_000.0),
    GammaGammaParams(0.8, 1.5, 2.0),
]
PATIENTS = [(1, 12.5), (2, 30.0), (5, 4.2), (40, 18.0)]


def over_nu(params: GammaGammaParams, x: int, m: float, weight=lambda nu: 1.0) -> float:
    """int weight(nu) f(m | p, nu, x) g(nu | q, v) d nu; the mean of x Gamma(p, nu) values is Gamma(px, nu x)."""
    mean_density = lambda nu: stats.gamma.pdf(m, params.p * x, scale=1.0 / (nu * x))
    prior = stats.gamma(params.q, scale=1.0 / params.v)
    lo, hi = prior.ppf(1e-14), prior.ppf(1 - 1e-14)
    value, _ = integrate.quad(
        lambda nu: weight(nu) * mean_density(nu) * prior.pdf(nu), lo, hi, epsabs=0, epsrel=1e-11, limit=400
    )
    return value


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize(("x", "m"), PATIENTS)
def test_likelihood_equals_the_density_of_the_mean_integrated_over_nu(
    params: GammaGammaParams, x: int, m: float
) -> None:
    m = m * params.v / params.q  # put the observed mean on the scale of the parameters
    expected = math.log(over_nu(params, x, m))
    assert float(gammagamma.log_likelihood(params, x, m)) == pytest.approx(expected, rel=1e-8, abs=1e-9)


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize(("x", "m"), PATIENTS)
def test_conditional_mean_value_equals_the_posterior_mean_of_p_over_nu(
    params: GammaGammaParams, x: int, m: float
) -> None:
    m = m * params.v / params.q
    expected = over_nu(params, x, m, weight=lambda nu: params.p / nu) / over_nu(params, x, m)
    assert float(gammagamma.conditional_expected_value(params, x, m)) == pytest.approx(expected, rel=1e-6)


def test_conditional_mean_without_visits_is_the_population_mean() -> None:
    params = GammaGammaParams(6.25, 3.74, 15.44)
    assert float(gammagamma.conditional_expected_value(params, 0, 0.0)) == pytest.approx(
        6.25 * 15.44 / 2.74, rel=1e-15
    )


def test_objective_gradient_matches_central_differences() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(1, 12, 3_000).astype(float)
    m = gammagamma.simulate(PARAMS[0], x, rng)
    objective = gammagamma._Objective(x, m / m.mean())
    theta = np.log([4.0, 3.0, 2.0])
    _, grad = objective(theta)
    h = 1e-6
    numeric = [(objective(theta + h * e)[0] - objective(theta - h * e)[0]) / (2 * h) for e in np.eye(3)]
    assert grad.tolist() == pytest.approx(numeric, rel=1e-6, abs=1e-9)
    p, q, v = np.exp(theta)
    direct = -gammagamma.log_likelihood(GammaGammaParams(p, q, v), x, m / m.mean()).mean()
    assert objective(theta)[0] == pytest.approx(direct, rel=1e-12)


def test_fit_without_repeat_visits_says_so() -> None:
    with pytest.raises(FitFailed, match="no repeat visits"):
        gammagamma.fit([0, 0, 0], [0.0, 0.0, 0.0])


def test_fit_with_two_repeating_patients_says_too_few_patients() -> None:
    with pytest.raises(FitFailed, match=r"too few patients.*at least 3.*found 2"):
        gammagamma.fit([1, 2, 0], [10.0, 12.0, 0.0])


def test_fit_on_identical_mean_values_reports_that_it_cannot_converge() -> None:
    with pytest.raises(FitFailed, match="did not converge: every patient has the same mean value"):
        gammagamma.fit([1, 2, 3, 4], [50.0, 50.0, 50.0, 50.0])
