"""Fits that end at a boundary of their model: every patient with the same dropout
probability (BG/NBD a, b -> infinity) and every visit of a patient worth the same
(Gamma-Gamma p -> infinity, v -> 0)."""

import datetime as dt
import io
import json
from decimal import Decimal

import numpy as np
import pytest

from clinicflow.analytics.clv import bgnbd, cli, gammagamma
from clinicflow.analytics.clv.bgnbd import BGNBDParams
from clinicflow.analytics.clv.predict import predict

R, ALPHA, P_DROP = 0.5, 6.0, 0.25
HORIZON = 26.0
# A seed whose sample has its maximum at the boundary (with a homogeneous truth the
# maximum is at the boundary for about half of the samples; otherwise at a large a + b).
SEED = 7
N = 50_000


def simulate_homogeneous(n: int, rng: np.random.Generator):
    """Event by event: Poisson visits with lambda ~ Gamma(R, ALPHA); after every repeat visit
    each patient leaves with the same probability P_DROP.  Also returns what happens next:
    visits in (T, T + HORIZON] and whether she was still active at T."""
    T = rng.uniform(2.0, 104.0, n)
    lam = rng.gamma(R, 1.0 / ALPHA, n)
    clock = np.zeros(n)
    x = np.zeros(n, dtype=np.int64)
    t_x = np.zeros(n)
    future = np.zeros(n, dtype=np.int64)
    alive_at_T = np.ones(n, dtype=bool)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        clock[idx] += rng.exponential(1.0 / lam[idx])
        before = clock[idx] <= T[idx]
        after = ~before & (clock[idx] <= T[idx] + HORIZON)
        x[idx[before]] += 1
        t_x[idx[before]] = clock[idx[before]]
        future[idx[after]] += 1
        leaves = rng.random(idx.size) < P_DROP
        alive_at_T[idx[before & leaves]] = False
        active[idx] = (before | after) & ~leaves
    return x, t_x, T, future, alive_at_T


@pytest.fixture(scope="module")
def homogeneous():
    x, t_x, T, future, alive_at_T = simulate_homogeneous(N, np.random.default_rng(SEED))
    with np.errstate(all="raise", under="ignore"):
        fit = bgnbd.fit(x, t_x, T)
    return fit, x, t_x, T, future, alive_at_T


def test_homogeneous_dropout_fit_is_flagged_and_recovers_r_alpha_and_p(homogeneous) -> None:
    fit, x, t_x, T, _, _ = homogeneous
    assert fit.boundary == "homogeneous_dropout"
    assert fit.params.a + fit.params.b == pytest.approx(bgnbd.HOMOGENEOUS_AB, rel=1e-12)
    assert fit.p_dropout == pytest.approx(fit.params.a / (fit.params.a + fit.params.b), rel=1e-12)
    assert np.isnan(fit.std_err.a) and np.isnan(fit.std_err.b)
    for estimate, err, truth in (
        (fit.params.r, fit.std_err.r, R),
        (fit.params.alpha, fit.std_err.alpha, ALPHA),
        (fit.p_dropout, fit.p_dropout_se, P_DROP),
    ):
        assert err is not None and 0 < err < 0.1 * truth
        assert abs(estimate - truth) < 3 * err, (estimate, err, truth)
    # The reported log-likelihood is the limit's, which a large finite a + b approaches from below.
    finite = BGNBDParams(fit.params.r, fit.params.alpha, fit.p_dropout * 1e4, (1 - fit.p_dropout) * 1e4)
    ll_finite = float(bgnbd.log_likelihood(finite, x, t_x, T).sum())
    assert ll_finite < fit.log_likelihood
    assert float(bgnbd.log_likelihood(fit.params, x, t_x, T).sum()) == pytest.approx(
        fit.log_likelihood, abs=0.05
    )


def test_homogeneous_predictions_agree_with_monte_carlo_of_the_process(homogeneous) -> None:
    fit, x, t_x, T, future, alive_at_T = homogeneous
    p_alive = bgnbd.probability_alive(fit.params, x, t_x, T)
    expected = bgnbd.conditional_expected_visits(fit.params, HORIZON, x, t_x, T)
    groups = {"x=0": x == 0, "x=1": x == 1, "x=2..4": (x >= 2) & (x <= 4), "x>=5": x >= 5}
    for name, g in groups.items():
        n = int(g.sum())
        assert n > 500, name
        # Monte-Carlo standard errors of the group means.
        se_alive = float(alive_at_T[g].std()) / np.sqrt(n) + 1e-9
        se_future = float(future[g].std()) / np.sqrt(n)
        assert abs(float(p_alive[g].mean()) - float(alive_at_T[g].mean())) < 4 * se_alive + 0.01, name
        assert abs(float(expected[g].mean()) - float(future[g].mean())) < 4 * se_future + 0.01, name
    assert float(expected.sum()) == pytest.approx(float(future.sum()), rel=0.03)


def test_expected_visits_at_a_large_a_plus_b_converge_to_the_homogeneous_closed_form() -> None:
    x = np.array([0.0, 1.0, 3.0, 12.0, 40.0])
    T = np.array([30.0, 40.0, 52.0, 80.0, 100.0])
    p = 0.3
    limit = bgnbd._expected_if_alive(BGNBDParams(R, ALPHA, p * 1e6, (1 - p) * 1e6), x, T, np.full(5, 26.0))
    closed = (1 / p) * (1 - ((ALPHA + T) / (ALPHA + T + p * 26.0)) ** (R + x))
    assert limit.tolist() == pytest.approx(closed.tolist(), rel=1e-13)
    gaps = []
    for total in (1e3, 1e4, 1e5):
        general = bgnbd._expected_if_alive(
            BGNBDParams(R, ALPHA, p * total, (1 - p) * total), x, T, np.full(5, 26.0)
        )
        gaps.append(float(np.max(np.abs(general / closed - 1))))
    # The general formula (hypergeometric series) approaches the limit like 1 / (a + b).
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 1e-3
    assert gaps[1] / gaps[2] == pytest.approx(10, rel=0.2)


def test_homogeneous_objective_gradient_matches_central_differences() -> None:
    rng = np.random.default_rng(3)
    x, t_x, T, _, _ = simulate_homogeneous(2000, rng)
    (xc, txc, Tc), w = bgnbd.compress(x.astype(float), t_x, T)
    objective = bgnbd._HomogeneousObjective(xc, txc / 50, Tc / 50, w)
    theta = np.array([-0.6, -2.0, -1.1])
    _, grad = objective(theta)
    for i in range(3):
        e = np.zeros(3)
        e[i] = 1e-6
        numeric = (objective(theta + e)[0] - objective(theta - e)[0]) / 2e-6
        assert grad[i] == pytest.approx(numeric, rel=1e-6, abs=1e-10)


def test_heterogeneous_data_do_not_take_the_boundary_path() -> None:
    # The non-boundary recovery (test_clv_recovery) still reports a, b with standard errors;
    # here a small heterogeneous sample: a finite fit, no flag.
    rng = np.random.default_rng(11)
    truth = BGNBDParams(0.5, 6.0, 0.9, 2.8)
    T = rng.uniform(2.0, 104.0, 20_000)
    x, t_x = bgnbd.simulate(truth, T, rng)
    fit = bgnbd.fit(x, t_x, T)
    assert fit.boundary is None and fit.p_dropout is None
    assert np.isfinite(fit.std_err.a) and np.isfinite(fit.std_err.b)


def test_constant_visit_value_fit_is_flagged_and_recovers_q_and_scale() -> None:
    # Each patient's visits are all worth 1 / nu' with nu' ~ Gamma(q, rate s): m_x is inverse-gamma.
    rng = np.random.default_rng(5)
    q, scale = 3.0, 4000.0
    x = rng.integers(1, 8, 5000).astype(float)
    m = scale / rng.gamma(q, 1.0, x.size)
    fit = gammagamma.fit(x, m)
    assert fit.boundary == "constant_visit_value"
    assert fit.params.p == gammagamma.CONSTANT_VALUE_P
    assert fit.scale is not None and fit.scale_se is not None
    assert fit.params.p * fit.params.v == pytest.approx(fit.scale, rel=1e-12)
    assert np.isnan(fit.std_err.p) and np.isnan(fit.std_err.v)
    assert abs(fit.params.q - q) < 3 * fit.std_err.q
    assert abs(fit.scale - scale) < 3 * fit.scale_se
    # A patient's expected value per visit is her own mean; without repeats the population mean.
    value = gammagamma.conditional_expected_value(fit.params, np.array([3.0, 0.0]), np.array([1234.5, 0.0]))
    assert value[0] == pytest.approx(1234.5, rel=1e-5)
    assert value[1] == pytest.approx(fit.scale / (fit.params.q - 1), rel=1e-5)


def test_the_command_reports_a_boundary_fit_with_a_note_and_null_standard_errors() -> None:
    x, t_x, T, _, _ = simulate_homogeneous(N, np.random.default_rng(SEED))
    until = dt.date(2026, 1, 1)
    rows: list[tuple[str, dt.date, Decimal]] = []
    # Days from the first visit; every patient pays her own amount.
    for i in range(0, N, 10):
        first = until - dt.timedelta(days=round(float(T[i]) * 7))
        days = {0}
        if x[i]:
            times = np.sort(np.random.default_rng(i).uniform(0, t_x[i], x[i] - 1))
            days |= {round(float(v) * 7) for v in times} | {round(float(t_x[i]) * 7)}
        for d in sorted(days):
            rows.append((f"P{i}", first + dt.timedelta(days=d), Decimal(1000 + 10 * (i % 97))))
    parser = cli.argparse.ArgumentParser()
    cli.add_arguments(parser)
    out, err = io.StringIO(), io.StringIO()
    options = vars(parser.parse_args(["--until", until.isoformat(), "--json"]))
    result = cli.execute(options, out, err, rows_loader=lambda: rows)
    doc = json.loads(out.getvalue())
    assert result.bgnbd.boundary == doc["bgnbd"]["boundary"] == "homogeneous_dropout"
    assert doc["bgnbd"]["std_err"]["a"] is None and doc["bgnbd"]["std_err"]["b"] is None
    assert doc["bgnbd"]["std_err"]["p"] > 0 and 0 < doc["bgnbd"]["p"] < 1
    assert "note: dropout probability is the same for every patient: p = " in err.getvalue()
    text = io.StringIO()
    cli.execute({**options, "json": False}, text, io.StringIO(), rows_loader=lambda: rows)
    assert "note: dropout probability is the same for every patient: p = " in text.getvalue()
    preds = predict(
        result.bgnbd.params,
        result.gamma_gamma.params,
        result.summary.frequency,
        result.summary.recency,
        result.summary.T,
        result.summary.monetary_float,
        time_unit="week",
        predict_units=10.0,
        horizon_months=12,
        discount_monthly=0.01,
        margin=1.0,
    )
    assert np.all(np.isfinite(preds.clv)) and np.all(preds.clv >= 0)
