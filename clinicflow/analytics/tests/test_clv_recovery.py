"""The fits recover the parameters of 200,000 patients simulated from known processes."""

import numpy as np

from clinicflow.analytics.clv import bgnbd, gammagamma
from clinicflow.analytics.clv.bgnbd import BGNBDParams
from clinicflow.analytics.clv.gammagamma import GammaGammaParams

TRUE_BG = BGNBDParams(r=0.5, alpha=6.0, a=0.9, b=2.8)
TRUE_GG = GammaGammaParams(p=4.0, q=3.5, v=250.0)


def simulate_visits_and_spend(n: int, rng: np.random.Generator):
    """Event-by-event simulation, independent of the model code.

    Each patient is first seen at time 0 and observed for T weeks; she visits after
    exponential waits with her rate lambda and, after each repeat visit, leaves with
    probability p.  Each repeat visit costs Gamma(p_value, rate nu).
    """
    T = rng.uniform(2.0, 104.0, n)
    lam = rng.gamma(TRUE_BG.r, 1.0 / TRUE_BG.alpha, n)
    p = rng.beta(TRUE_BG.a, TRUE_BG.b, n)
    nu = rng.gamma(TRUE_GG.q, 1.0 / TRUE_GG.v, n)
    clock = np.zeros(n)
    x = np.zeros(n, dtype=np.int64)
    t_x = np.zeros(n)
    spend = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        clock[idx] += rng.exponential(1.0 / lam[idx])
        visited = clock[idx] <= T[idx]
        hit = idx[visited]
        x[hit] += 1
        t_x[hit] = clock[hit]
        spend[hit] += rng.gamma(TRUE_GG.p, 1.0 / nu[hit])
        stays = rng.random(idx.size) >= p[idx]
        active[idx] = visited & stays
    monetary = np.where(x > 0, spend / np.maximum(x, 1), 0.0)
    return x, t_x, T, monetary


def test_fits_recover_simulated_parameters_within_three_standard_errors() -> None:
    x, t_x, T, monetary = simulate_visits_and_spend(200_000, np.random.default_rng(1234))
    with np.errstate(all="raise", under="ignore"):
        bg = bgnbd.fit(x, t_x, T)
        gg = gammagamma.fit(x, monetary)
    for name in ("r", "alpha", "a", "b"):
        estimate, err, truth = getattr(bg.params, name), getattr(bg.std_err, name), getattr(TRUE_BG, name)
        assert abs(estimate - truth) < 3 * err, (name, estimate, err, truth)
        assert err < 0.1 * truth  # the data pin every parameter down
    for name in ("p", "q", "v"):
        estimate, err, truth = getattr(gg.params, name), getattr(gg.std_err, name), getattr(TRUE_GG, name)
        assert abs(estimate - truth) < 3 * err, (name, estimate, err, truth)
        assert err < 0.1 * truth
    assert bg.n_patients == 200_000
    assert gg.n_patients == int(np.count_nonzero(x))
    # The maximised log-likelihood beats the truth's, by about half a chi-square(4).
    ll_true = float(bgnbd.log_likelihood(TRUE_BG, x, t_x, T).sum())
    assert 0 < bg.log_likelihood - ll_true < 15
