"""BG/NBD formulas against numerical integration and simulation of the model itself."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from clinicflow.analytics.clv import bgnbd
from clinicflow.analytics.clv.bgnbd import BGNBDParams

PARAMS = [
    BGNBDParams(0.243, 4.414, 0.793, 2.426),
    BGNBDParams(1.7, 9.0, 2.5, 4.0),
    BGNBDParams(0.6, 0.8, 1.3, 0.7),
]
CUSTOMERS = [(0, 0.0, 10.0), (1, 2.0, 10.0), (3, 9.5, 10.0), (12, 25.0, 39.0)]


def mixing_integral(params: BGNBDParams, integrand, *, lam_hi: float = math.inf) -> float:
    """Integrate ``integrand(lam, p)`` against Gamma(r, rate alpha) x Beta(a, b) with QUADPACK."""
    r, alpha, a, b = params.as_tuple()
    log_gamma_norm = r * math.log(alpha) - math.lgamma(r)
    log_beta_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)

    def gamma_pdf(lam: float) -> float:
        return math.exp(log_gamma_norm + (r - 1) * math.log(lam) - alpha * lam) if lam > 0 else 0.0

    def beta_pdf(p: float) -> float:
        if p <= 0 or p >= 1:
            return 0.0
        return math.exp(log_beta_norm + (a - 1) * math.log(p) + (b - 1) * math.log1p(-p))

    def over_p(lam: float) -> float:
        value = sum(
            integrate.quad(
                lambda p: integrand(lam, p) * beta_pdf(p), lo, hi, epsabs=0, epsrel=1e-11, limit=200
            )[0]
            for lo, hi in ((0.0, 0.5), (0.5, 1.0))
        )
        return value * gamma_pdf(lam)

    # The densities are singular at 0 for shapes below 1; split the ranges for accuracy.
    pieces = [(0.0, 1e-4), (1e-4, 1e-2), (1e-2, 1.0), (1.0, lam_hi)]
    return sum(integrate.quad(over_p, lo, hi, epsabs=0, epsrel=1e-10, limit=200)[0] for lo, hi in pieces)


def individual_likelihood(lam: float, p: float, x: int, t_x: float, T: float) -> float:
    """Likelihood of (x, t_x, T) for one patient with known rate and dropout probability."""
    alive = (1 - p) ** x * lam**x * math.exp(-lam * T)
    dropped = p * (1 - p) ** (x - 1) * lam**x * math.exp(-lam * t_x) if x > 0 else 0.0
    return alive + dropped


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize(("x", "t_x", "T"), CUSTOMERS)
def test_likelihood_equals_the_individual_likelihood_integrated_over_the_mixing_distributions(
    params: BGNBDParams, x: int, t_x: float, T: float
) -> None:
    expected = mixing_integral(params, lambda lam, p: individual_likelihood(lam, p, x, t_x, T))
    got = bgnbd.log_likelihood(params, x, t_x, T)
    assert float(got) == pytest.approx(math.log(expected), rel=1e-7)


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize(("x", "t_x", "T"), CUSTOMERS[1:])
def test_probability_alive_equals_the_posterior_mass_of_the_alive_branch(
    params: BGNBDParams, x: int, t_x: float, T: float
) -> None:
    alive = mixing_integral(params, lambda lam, p: (1 - p) ** x * lam**x * math.exp(-lam * T))
    total = mixing_integral(params, lambda lam, p: individual_likelihood(lam, p, x, t_x, T))
    assert float(bgnbd.probability_alive(params, x, t_x, T)) == pytest.approx(alive / total, rel=1e-7)


def test_probability_alive_is_one_without_repeat_visits() -> None:
    assert bgnbd.probability_alive(PARAMS[0], [0, 0], [0.0, 0.0], [1.0, 100.0]).tolist() == [1.0, 1.0]


def expected_count_by_summation(lam: float, p: float, t: float) -> float:
    """E[X(t) | lam, p] as a sum over visits: visit n happens by t with probability
    P(Poisson(lam t) >= n), and only if the patient survived the n - 1 earlier ones."""
    mean = lam * t
    n = np.arange(1, int(mean + 12 * math.sqrt(mean) + 40) + 1)
    return float(np.sum((1 - p) ** (n - 1) * stats.poisson.sf(n - 1, mean)))


def expected_count_given_rate(lam: float, p: float, t: float) -> float:
    """E[X(t) | lam, p] = (1 - exp(-lam p t)) / p (the sum above in closed form)."""
    return -math.expm1(-lam * p * t) / p


@pytest.mark.parametrize(("lam", "p", "t"), [(0.1, 0.3, 5.0), (2.0, 0.05, 10.0), (0.7, 0.9, 52.0)])
def test_individual_expected_count_closed_form_equals_the_sum_over_visits(
    lam: float, p: float, t: float
) -> None:
    assert expected_count_given_rate(lam, p, t) == pytest.approx(
        expected_count_by_summation(lam, p, t), rel=1e-12
    )


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("t", [0.5, 10.0, 52.0])
def test_expected_visits_of_a_new_patient_equals_the_integrated_individual_expectation(
    params: BGNBDParams, t: float
) -> None:
    expected = mixing_integral(params, lambda lam, p: expected_count_given_rate(lam, p, t))
    assert float(bgnbd.expected_visits(params, t)) == pytest.approx(expected, rel=1e-6)


def test_expected_visits_of_a_new_patient_matches_a_simulation_of_the_process() -> None:
    params = BGNBDParams(0.9, 6.0, 1.4, 3.0)
    rng = np.random.default_rng(20240601)
    n, t = 400_000, 26.0
    lam = rng.gamma(params.r, 1 / params.alpha, n)
    p = rng.beta(params.a, params.b, n)
    # Event by event: the next visit comes after an exponential wait; then drop out with p.
    clock = np.zeros(n)
    count = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        clock[idx] += rng.exponential(1 / lam[idx])
        visited = clock[idx] <= t
        count[idx[visited]] += 1
        survives = rng.random(idx.size) >= p[idx]
        active[idx] = visited & survives
    standard_error = count.std() / math.sqrt(n)
    assert abs(float(bgnbd.expected_visits(params, t)) - count.mean()) < 4 * standard_error


@pytest.mark.parametrize("params", [PARAMS[0], PARAMS[2]])
@pytest.mark.parametrize(("x", "t_x", "T"), CUSTOMERS)
@pytest.mark.parametrize("t", [30.0])
def test_conditional_expectation_equals_the_posterior_integral(
    params: BGNBDParams, x: int, t_x: float, T: float, t: float
) -> None:
    # Only a patient still alive at T visits again; given alive, E[visits in t] = E[X(t) | lam, p].
    numerator = mixing_integral(
        params,
        lambda lam, p: (1 - p) ** x * lam**x * math.exp(-lam * T) * expected_count_given_rate(lam, p, t),
    )
    total = mixing_integral(params, lambda lam, p: individual_likelihood(lam, p, x, t_x, T))
    got = bgnbd.conditional_expected_visits(params, t, x, t_x, T)
    assert float(got) == pytest.approx(numerator / total, rel=1e-6)


@pytest.mark.parametrize("x", [200, 5_000, 100_000])
def test_conditional_expectation_for_very_frequent_patients_matches_the_beta_posterior_integral(
    x: int,
) -> None:
    # Given alive, lambda ~ Gamma(r + x, alpha + T) and p ~ Beta(a, b + x) independently, and
    # E[1 - exp(-lam p t)] over lambda is 1 - ((alpha + T)/(alpha + T + p t))^(r + x).
    params = BGNBDParams(0.243, 4.414, 0.793, 2.426)
    T, t_x, t = 400.0, 399.0, 52.14
    base = params.alpha + T
    beta = stats.beta(params.a, params.b + x)

    def given_p(p: float) -> float:
        return -math.expm1(-(params.r + x) * math.log1p(p * t / base)) / p

    cut = 50.0 / (params.b + x)  # nearly all posterior mass of p lies below this
    value = sum(
        integrate.quad(lambda p: given_p(p) * beta.pdf(p), lo, hi, epsabs=0, epsrel=1e-10, limit=400)[0]
        for lo, hi in [(0.0, cut / 1000), (cut / 1000, cut), (cut, 1.0)]
    )
    with np.errstate(all="raise"):
        p_alive = float(bgnbd.probability_alive(params, x, t_x, T))
        got = float(bgnbd.conditional_expected_visits(params, t, x, t_x, T))
    assert got == pytest.approx(p_alive * value, rel=1e-8)


def test_predictions_raise_no_floating_point_errors_for_long_histories() -> None:
    params = BGNBDParams(0.243, 4.414, 0.793, 2.426)
    x = np.array([0, 1, 50, 10_000, 1_000_000])
    t_x = np.array([0.0, 0.5, 3.0, 5_000.0, 9_999.0])
    T = np.array([10_000.0] * 5)
    with np.errstate(all="raise"):
        ll = bgnbd.log_likelihood(params, x, t_x, T)
        alive = bgnbd.probability_alive(params, x, t_x, T)
        expected = bgnbd.conditional_expected_visits(params, 52.14, x, t_x, T)
    assert np.all(np.isfinite(ll))
    assert np.all((alive >= 0) & (alive <= 1))
    assert alive[2] == 0.0 or alive[2] < 1e-300
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)


def test_objective_gradient_matches_central_differences() -> None:
    rng = np.random.default_rng(7)
    x, t_x = bgnbd.simulate(PARAMS[0], rng.uniform(1, 40, 2_000), rng)
    T = np.maximum(rng.uniform(1, 40, 2_000), t_x)
    (xc, txc, Tc), w = bgnbd.compress(x.astype(float), t_x, T)
    objective = bgnbd._Objective(xc, txc, Tc, w)
    theta = np.log([0.4, 3.0, 0.9, 2.0])
    _, grad = objective(theta)
    h = 1e-6
    numeric = [(objective(theta + h * e)[0] - objective(theta - h * e)[0]) / (2 * h) for e in np.eye(4)]
    assert grad.tolist() == pytest.approx(numeric, rel=1e-6, abs=1e-9)
    # The objective is the mean negative log-likelihood of the uncompressed data.
    r, alpha, a, b = np.exp(theta)
    direct = -bgnbd.log_likelihood(BGNBDParams(r, alpha, a, b), x, t_x, T).mean()
    assert objective(theta)[0] == pytest.approx(direct, rel=1e-12)


def test_fit_in_days_equals_the_fit_in_weeks_rescaled() -> None:
    rng = np.random.default_rng(11)
    T = rng.uniform(5, 52, 8_000)
    x, t_x = bgnbd.simulate(PARAMS[1], T, rng)
    weeks = bgnbd.fit(x, t_x, T)
    days = bgnbd.fit(x, t_x * 7, T * 7)
    assert days.params.alpha == pytest.approx(weeks.params.alpha * 7, rel=1e-5)
    for name in ("r", "a", "b"):
        assert getattr(days.params, name) == pytest.approx(getattr(weeks.params, name), rel=1e-5)
        assert getattr(days.std_err, name) == pytest.approx(getattr(weeks.std_err, name), rel=1e-3)
    # The density of visit times is per unit of time: x log 7 per patient apart.
    assert days.log_likelihood == pytest.approx(weeks.log_likelihood - x.sum() * math.log(7), rel=1e-9)
