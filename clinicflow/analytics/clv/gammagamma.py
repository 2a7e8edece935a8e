"""The Gamma-Gamma model of value per visit (Fader & Hardie, 2013).

The value of each visit of a patient is gamma distributed with shape ``p`` and rate
``nu``; ``nu`` is gamma distributed over patients with shape ``q`` and rate ``v``
(the note calls it ``gamma``).  A patient with ``x`` repeat visits of mean value
``m_x`` is described by ``(x, m_x)``; only patients with ``x >= 1`` enter the fit.

Equation numbers refer to Fader & Hardie (2013), "The Gamma-Gamma model of monetary
value", http://www.brucehardie.com/notes/025/.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from clinicflow.analytics.clv.special import (
    PRESOLVE_ROWS,
    FitFailed,
    ParameterDrift,
    maximise,
    presolve,
    subsample_weights,
)

FloatArray = NDArray[np.float64]
PARAM_NAMES = ("p", "q", "v")
MIN_PATIENTS_WITH_REPEATS = 3

# The constant-visit-value boundary: p -> infinity and v -> 0 with s = p v fixed, i.e. a
# patient's visits all have the same value 1 / nu' with nu' ~ Gamma(q, rate s) over
# patients (the mean m_x is inverse-gamma(q, scale s) whatever x).  A fit that ends
# there reports p = CONSTANT_VALUE_P and v = s / p.
CONSTANT_VALUE_P = 1e6
BOUNDARY_CONSTANT_VALUE = "constant_visit_value"


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    v: float

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.p, self.q, self.v)


@dataclass(frozen=True)
class GammaGammaFit:
    params: GammaGammaParams
    std_err: GammaGammaParams
    log_likelihood: float
    n_patients: int
    iterations: int
    # "constant_visit_value" when the fit ended at p -> infinity, v -> 0 (then p is
    # CONSTANT_VALUE_P, std_err.p and std_err.v are nan, and scale = p v is identified).
    boundary: str | None = None
    scale: float | None = None
    scale_se: float | None = None


def log_likelihood(params: GammaGammaParams, x: ArrayLike, m_x: ArrayLike) -> FloatArray:
    """Log density of the mean value ``m_x`` of ``x`` visits, equation (4):

    ``G(p x + q) / (G(p x) G(q)) v^q m_x^(p x - 1) x^(p x) / (v + m_x x)^(p x + q)``.
    """
    p, q, v = params.as_tuple()
    x_, m_ = (np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(x, m_x))
    px = p * x_
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * math.log(v)
        + (px - 1.0) * np.log(m_)
        + px * np.log(x_)
        - (px + q) * np.log(v + m_ * x_),
        dtype=np.float64,
    )


def conditional_expected_value(params: GammaGammaParams, x: ArrayLike, m_x: ArrayLike) -> FloatArray:
    """E[M | p, q, v, m_x, x], equation (5): ``p (v + m_x x) / (p x + q - 1)``.

    It is the weighted mean of the population mean ``p v / (q - 1)`` and the patient's
    observed mean ``m_x``, with weight ``p x / (p x + q - 1)`` on ``m_x``.  For ``x = 0``
    it is the population mean (defined for ``q > 1``).
    """
    p, q, v = params.as_tuple()
    x_, m_ = (np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(x, m_x))
    return np.asarray(p * (v + m_ * x_) / (p * x_ + q - 1.0), dtype=np.float64)


class _Objective:
    """Mean negative log-likelihood and gradient over ``log(p, q, v)``.

    Only ``log(v + x m_x)`` needs a pass over the patients; the gamma-function terms are
    evaluated once per distinct ``x`` and the ``log m_x`` terms are constant sums.
    """

    def __init__(self, x: FloatArray, m_x: FloatArray) -> None:
        self.total_weight = float(x.size)
        self.x_values, ix = np.unique(x, return_inverse=True)
        self.x_counts = np.bincount(ix, minlength=self.x_values.size).astype(np.float64)
        self.x = x
        self.s = x * m_x
        log_m = np.log(m_x)
        self.sum_x_log_m = float(x @ log_m)
        self.sum_log_m = float(log_m.sum())

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        p, q, v = np.exp(theta)
        xv, nx = self.x_values, self.x_counts
        pxv = p * xv
        ll = float(nx @ (gammaln(pxv + q) - gammaln(pxv) - gammaln(q) + q * np.log(v) + pxv * np.log(xv)))
        log_vs = np.log(v + self.s)
        inv_vs = 1.0 / (v + self.s)
        sum_x_log_vs = float(self.x @ log_vs)
        sum_log_vs = float(log_vs.sum())
        ll += p * self.sum_x_log_m - self.sum_log_m - p * sum_x_log_vs - q * sum_log_vs
        dig = digamma(pxv + q)
        g_p = float(nx @ (xv * (dig - digamma(pxv) + np.log(xv)))) + self.sum_x_log_m - sum_x_log_vs
        g_q = float(nx @ (dig - digamma(q) + np.log(v))) - sum_log_vs
        g_v = float(nx.sum()) * q / v - p * float(self.x @ inv_vs) - q * float(inv_vs.sum())
        grad = np.array([g_p * p, g_q * q, g_v * v])
        return -ll / self.total_weight, -grad / self.total_weight


def fit(x: ArrayLike, m_x: ArrayLike) -> GammaGammaFit:
    """Maximum-likelihood fit of (p, q, v) on patients with ``x >= 1`` and ``m_x > 0``."""
    x_, m_ = (np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(x, m_x))
    use = (x_ >= 1) & (m_ > 0)
    x_, m_ = x_[use], m_[use]
    if x_.size == 0:
        raise FitFailed(
            "no repeat visits: the Gamma-Gamma model needs patients with at least one repeat "
            "visit of positive value"
        )
    if x_.size < MIN_PATIENTS_WITH_REPEATS:
        raise FitFailed(
            f"too few patients: the Gamma-Gamma model needs at least {MIN_PATIENTS_WITH_REPEATS} "
            f"patients with repeat visits, found {x_.size}"
        )
    if np.unique(m_).size < 2:
        raise FitFailed("the Gamma-Gamma fit did not converge: every patient has the same mean value")
    # Work in money units where the mean visit value is 1.
    money_scale = float(m_.mean())
    objective = _Objective(x_, m_ / money_scale)
    # Moment-style start: p = 1 visit shape, q = 3 so that the mean p v / (q - 1) = 1.
    start = np.log(np.array([1.0, 3.0, 2.0]))
    approx_hessian = None
    if x_.size > 2 * PRESOLVE_ROWS:
        keep = subsample_weights(np.ones(x_.size)) > 0
        if np.count_nonzero(keep) >= MIN_PATIENTS_WITH_REPEATS:
            start, approx_hessian = presolve(_Objective(x_[keep], m_[keep] / money_scale), start)
    try:
        opt = maximise(
            objective,
            start,
            PARAM_NAMES,
            model="Gamma-Gamma",
            total_weight=objective.total_weight,
            approx_hessian=approx_hessian,
        )
    except ParameterDrift as drift:
        p_d, _, v_d = drift.theta
        if not ({"p", "v"} & set(drift.names) and p_d > start[0] + 5.0 and v_d < start[2] - 5.0):
            raise
        return _fit_constant_value(drift, x_, m_)
    p, q, v = np.exp(opt.theta)
    params = GammaGammaParams(float(p), float(q), float(v * money_scale))
    se = np.exp(opt.theta) * opt.std_err_log
    std_err = GammaGammaParams(float(se[0]), float(se[1]), float(se[2] * money_scale))
    ll = float(log_likelihood(params, x_, m_).sum())
    return GammaGammaFit(params, std_err, ll, int(x_.size), opt.iterations)


def log_likelihood_constant_value(q: float, scale: float, m_x: ArrayLike) -> FloatArray:
    """Log density of the limit p -> infinity, v -> 0, p v = scale: inverse-gamma(q, scale)."""
    m_ = np.asarray(m_x, dtype=np.float64)
    return np.asarray(
        q * math.log(scale) - float(gammaln(q)) - (q + 1.0) * np.log(m_) - scale / m_, dtype=np.float64
    )


class _ConstantValueObjective:
    """Mean negative log-likelihood of the inverse-gamma limit over ``log(q, scale)``."""

    def __init__(self, m_x: FloatArray) -> None:
        self.total_weight = float(m_x.size)
        self.mean_log_m = float(np.log(m_x).mean())
        self.mean_inv_m = float((1.0 / m_x).mean())

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        q, scale = np.exp(theta)
        log_s = float(theta[1])
        ll = q * log_s - float(gammaln(q)) - (q + 1.0) * self.mean_log_m - scale * self.mean_inv_m
        g_q = log_s - float(digamma(q)) - self.mean_log_m
        g_s = q / scale - self.mean_inv_m
        return -ll, -np.array([g_q * q, g_s * scale])


def _fit_constant_value(drift: ParameterDrift, x: FloatArray, m: FloatArray) -> GammaGammaFit:
    """Refit at the boundary p -> infinity, v -> 0 (every visit of a patient worth the same).

    Accepted when the limit is at least as likely as the general model at p = 1e4 and
    1e5 with the same q and ``p v``, and the likelihood at p = 1e6 and 1e7 agrees with it.
    """
    money_scale = float(m.mean())
    objective = _ConstantValueObjective(m / money_scale)
    try:
        opt = maximise(
            objective,
            np.log(np.array([2.0, 1.0])),
            ("q", "p v"),
            model="Gamma-Gamma (the same value for each of a patient's visits)",
            total_weight=objective.total_weight,
        )
    except FitFailed as exc:
        raise drift from exc
    q, scale_scaled = (float(v) for v in np.exp(opt.theta))
    scale = scale_scaled * money_scale
    ll = float(log_likelihood_constant_value(q, scale, m).sum())

    def ll_at(p: float) -> float:
        return float(log_likelihood(GammaGammaParams(p, q, scale / p), x, m).sum())

    ll_1e4, ll_1e5, ll_1e6, ll_1e7 = (ll_at(p) for p in (1e4, 1e5, 1e6, 1e7))
    tolerance = 1e-7 * max(1.0, abs(ll))
    if not (ll_1e4 <= ll_1e5 + tolerance and ll_1e5 <= ll + tolerance):
        raise drift
    if not abs(ll_1e7 - ll) <= abs(ll_1e6 - ll) + tolerance:
        raise FitFailed(
            "the Gamma-Gamma fit did not converge: p, v drift towards infinity and 0, but the "
            "likelihood at p = 1e6 and 1e7 still differs"
        )
    se_q, se_s = np.exp(opt.theta) * opt.std_err_log
    nan = float("nan")
    return GammaGammaFit(
        GammaGammaParams(CONSTANT_VALUE_P, q, scale / CONSTANT_VALUE_P),
        GammaGammaParams(nan, float(se_q), nan),
        ll,
        int(x.size),
        opt.iterations,
        boundary=BOUNDARY_CONSTANT_VALUE,
        scale=scale,
        scale_se=float(se_s) * money_scale,
    )


def simulate(params: GammaGammaParams, x: ArrayLike, rng: np.random.Generator) -> FloatArray:
    """Mean visit value of patients with ``x`` visits (0 where ``x = 0``).

    ``nu ~ Gamma(q, rate v)``; the sum of ``x`` visit values ``Gamma(p, rate nu)`` is
    ``Gamma(p x, rate nu)``, so their mean is ``Gamma(p x, rate nu x)``.
    """
    x_ = np.asarray(x, dtype=np.float64)
    nu = rng.gamma(params.q, 1.0 / params.v, x_.size)
    out = np.zeros(x_.size)
    rep = x_ > 0
    out[rep] = rng.gamma(params.p * x_[rep], 1.0 / (nu[rep] * x_[rep]))
    return out
