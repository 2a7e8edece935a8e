"""The BG/NBD model of visit counts (Fader, Hardie & Lee, 2005).

While active a patient visits as a Poisson process with rate ``lambda`` (gamma
distributed over patients, shape ``r``, rate ``alpha``); after every repeat visit she
becomes inactive with probability ``p`` (beta distributed, ``a``, ``b``).  A patient is
summarised by ``x`` (repeat visits), ``t_x`` (time of the last visit) and ``T`` (time
observed), all measured from her first visit.

Equation numbers refer to Fader, Hardie & Lee (2005), "Counting your customers the
easy way: an alternative to the Pareto/NBD model", Marketing Science 24(2).
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
    hyp2f1_log,
    log_sigmoid_parts,
    maximise,
    presolve,
    subsample_weights,
)

FloatArray = NDArray[np.float64]
PARAM_NAMES = ("r", "alpha", "a", "b")

# Below this distance from a = 1 the factor (a + b + x - 1) / (a - 1) of equations (7)
# and (10) is evaluated as the mean of the two sides a = 1 +- _A_NEAR_ONE.
_A_NEAR_ONE = 1e-6


@dataclass(frozen=True)
class BGNBDParams:
    r: float
    alpha: float
    a: float
    b: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.r, self.alpha, self.a, self.b)


def _floats(*values: ArrayLike) -> list[FloatArray]:
    return [np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(*values)]


def log_likelihood(params: BGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """Per-patient log-likelihood, equation (6), evaluated in log space.

    ``L = B(a, b + x)/B(a, b) * G(r + x) a^r / (G(r) (alpha + T)^(r + x))
    + [x > 0] B(a + 1, b + x - 1)/B(a, b) * G(r + x) alpha^r / (G(r) (alpha + t_x)^(r + x))``
    """
    r, alpha, a, b = params.as_tuple()
    x_, tx_, T_ = _floats(x, t_x, T)
    a1 = gammaln(r + x_) - gammaln(r) + r * math.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x_) - gammaln(b) - gammaln(a + b + x_)
    a3 = -(r + x_) * np.log(alpha + T_)
    repeat = x_ > 0
    with np.errstate(divide="ignore"):
        # B(a + 1, b + x - 1) / B(a, b + x) = a / (b + x - 1); absent without repeats.
        a4_minus_a3 = np.where(
            repeat,
            math.log(a)
            - np.log(np.where(repeat, b + x_ - 1.0, 1.0))
            + (r + x_) * (np.log(alpha + T_) - np.log(alpha + tx_)),
            -np.inf,
        )
    softplus, _ = log_sigmoid_parts(a4_minus_a3)
    return np.asarray(a1 + a2 + a3 + softplus, dtype=np.float64)


def _log_alive_odds(params: BGNBDParams, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """``log(a / (b + x - 1)) + (r + x) log((alpha + T) / (alpha + t_x))``; -inf for x = 0."""
    r, alpha, a, b = params.as_tuple()
    repeat = x > 0
    safe_bx = np.where(repeat, b + x - 1.0, 1.0)
    odds = math.log(a) - np.log(safe_bx) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return np.where(repeat, odds, -np.inf)


def probability_alive(params: BGNBDParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
    """P(alive at T | x, t_x, T): ``1 / (1 + [x > 0] a/(b + x - 1) ((alpha + T)/(alpha + t_x))^(r + x))``.

    Fader, Hardie & Lee (2008), "Computing P(alive) using the BG/NBD model", equation (2).
    """
    x_, tx_, T_ = _floats(x, t_x, T)
    with np.errstate(divide="ignore"):
        _, p_dead = log_sigmoid_parts(_log_alive_odds(params, x_, tx_, T_))
    return np.asarray(1.0 - p_dead, dtype=np.float64)


def _expected_if_alive(params: BGNBDParams, x: FloatArray, T: FloatArray, t: FloatArray) -> FloatArray:
    """Expected visits in (T, T + t] for a patient still active at T (the bracket of eq. 10).

    ``(a + b + x - 1)/(a - 1) [1 - ((alpha + T)/(alpha + T + t))^(r + x)
    2F1(r + x, b + x; a + b + x - 1; t/(alpha + T + t))]``
    """
    r, alpha, a, b = params.as_tuple()
    if abs(a - 1.0) < _A_NEAR_ONE:
        lo = _expected_if_alive(BGNBDParams(r, alpha, 1.0 - _A_NEAR_ONE, b), x, T, t)
        hi = _expected_if_alive(BGNBDParams(r, alpha, 1.0 + _A_NEAR_ONE, b), x, T, t)
        return np.asarray(0.5 * (lo + hi), dtype=np.float64)
    base = alpha + T
    z = t / (base + t)
    log_f, sign = hyp2f1_log(r + x, b + x, a + b + x - 1.0, z)
    log_g = log_f + (r + x) * np.log1p(-z)  # log1p(-z) = log((alpha + T)/(alpha + T + t))
    with np.errstate(under="ignore"):
        one_minus_g = np.where(sign > 0, -np.expm1(log_g), 1.0 + np.exp(log_g))
    return np.asarray((a + b + x - 1.0) / (a - 1.0) * one_minus_g, dtype=np.float64)


def expected_visits(params: BGNBDParams, t: ArrayLike) -> FloatArray:
    """E[X(t)], expected repeat visits in (0, t] of a new patient, equation (7)."""
    (t_,) = _floats(t)
    zeros = np.zeros_like(t_)
    return _expected_if_alive(params, zeros, zeros, t_)


def conditional_expected_visits(
    params: BGNBDParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """E[Y(t) | x, t_x, T], expected visits in (T, T + t], equation (10)."""
    t_, x_, tx_, T_ = _floats(t, x, t_x, T)
    return np.asarray(
        probability_alive(params, x_, tx_, T_) * _expected_if_alive(params, x_, T_, t_), dtype=np.float64
    )


class _Objective:
    """Mean negative log-likelihood over compressed data and its analytic gradient.

    The parameters are ``log(r, alpha, a, b)`` with times divided by ``time_scale``.
    Patients without repeats contribute ``r (log alpha - log(alpha + T))`` and are
    grouped by ``T``; the others are grouped by identical ``(x, t_x, T)``.  Functions
    of ``x``, ``T`` and ``t_x`` alone are evaluated once per distinct value, and sums of
    them over patients come from per-value weights (``bincount``), so only
    ``log(1 + exp(A4 - A3))`` and its derivative need a pass over the rows.
    """

    def __init__(self, x: FloatArray, t_x: FloatArray, T: FloatArray, weights: FloatArray) -> None:
        self.total_weight = float(weights.sum())
        zero = x == 0
        self.T0, self.w0 = T[zero], weights[zero]
        rep = ~zero
        x1, tx1, T1, self.w1 = x[rep], t_x[rep], T[rep], weights[rep]
        self.x_values, self.ix = np.unique(x1, return_inverse=True)
        self.x_weights = np.bincount(self.ix, weights=self.w1, minlength=self.x_values.size)
        self.T_values, self.iT = np.unique(T1, return_inverse=True)
        self.tx_values, self.itx = np.unique(tx1, return_inverse=True)
        self.x1 = x1
        # Weights of each distinct T and t_x, plain and times x.
        self.w_T = np.bincount(self.iT, weights=self.w1, minlength=self.T_values.size)
        self.wx_T = np.bincount(self.iT, weights=self.w1 * x1, minlength=self.T_values.size)

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha, a, b = np.exp(theta)
        xv, wxv = self.x_values, self.x_weights
        # Patients without repeat visits.
        l0 = np.log(alpha) - np.log(alpha + self.T0)
        ll = r * float(self.w0 @ l0)
        g_r = float(self.w0 @ l0)
        g_alpha = r * float(self.w0 @ (1.0 / alpha - 1.0 / (alpha + self.T0)))
        g_a = 0.0
        g_b = 0.0
        if self.x1.size:
            # Terms that depend on x only (A1 + A2 of equation 6), per distinct x.
            ab = a + b
            ll += float(
                wxv
                @ (
                    gammaln(r + xv)
                    - gammaln(r)
                    + r * np.log(alpha)
                    + gammaln(ab)
                    + gammaln(b + xv)
                    - gammaln(b)
                    - gammaln(ab + xv)
                )
            )
            g_r += float(wxv @ (digamma(r + xv) - digamma(r) + np.log(alpha)))
            g_alpha += float(wxv.sum()) * r / alpha
            g_a += float(wxv @ (digamma(ab) - digamma(ab + xv)))
            g_b += float(wxv @ (digamma(ab) + digamma(b + xv) - digamma(b) - digamma(ab + xv)))
            # A3 = -(r + x) log(alpha + T), summed through the weights of each distinct T.
            log_T_values = np.log(alpha + self.T_values)
            inv_T_values = 1.0 / (alpha + self.T_values)
            ll -= r * float(self.w_T @ log_T_values) + float(self.wx_T @ log_T_values)
            g_r -= float(self.w_T @ log_T_values)
            g_alpha -= r * float(self.w_T @ inv_T_values) + float(self.wx_T @ inv_T_values)
            # log(1 + exp(A4 - A3)), A4 - A3 = log(a/(b + x - 1)) + (r + x) log((alpha + T)/(alpha + t_x)).
            log_odds_x = np.log(a) - np.log(b + xv - 1.0)
            diff = log_T_values[self.iT] - np.log(alpha + self.tx_values)[self.itx]
            rx = r + self.x1
            softplus, p4 = log_sigmoid_parts(log_odds_x[self.ix] + rx * diff)
            w = self.w1
            ll += float(w @ softplus)
            wp4 = w * p4
            g_r += float(wp4 @ diff)
            wp4rx = wp4 * rx
            g_alpha += float(np.bincount(self.iT, weights=wp4rx, minlength=inv_T_values.size) @ inv_T_values)
            g_alpha -= float(
                np.bincount(self.itx, weights=wp4rx, minlength=self.tx_values.size)
                @ (1.0 / (alpha + self.tx_values))
            )
            wp4_by_x = np.bincount(self.ix, weights=wp4, minlength=xv.size)
            g_a += float(wp4_by_x.sum()) / a
            g_b -= float(wp4_by_x @ (1.0 / (b + xv - 1.0)))
        grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
        return -ll / self.total_weight, -grad / self.total_weight


@dataclass(frozen=True)
class BGNBDFit:
    params: BGNBDParams
    std_err: BGNBDParams
    log_likelihood: float
    n_patients: int
    iterations: int


def unique_rows(*columns: FloatArray) -> tuple[list[FloatArray], NDArray[np.intp]]:
    """Distinct rows of the given equal-length columns and, per input row, its distinct row."""
    codes = []
    for col in columns:
        _, inv = np.unique(col, return_inverse=True)
        codes.append(inv.astype(np.int64))
    key = codes[0]
    for code in codes[1:]:
        key = key * (int(code.max()) + 1 if code.size else 1) + code
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return [col[first] for col in columns], inverse


def compress(*columns: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Distinct rows of the given columns and how many times each occurs."""
    distinct, inverse = unique_rows(*columns)
    counts = np.bincount(inverse, minlength=distinct[0].size if distinct else 0)
    return distinct, counts.astype(np.float64)


def fit(x: ArrayLike, t_x: ArrayLike, T: ArrayLike, *, weights: ArrayLike | None = None) -> BGNBDFit:
    """Maximum-likelihood fit of (r, alpha, a, b) with standard errors."""
    x_, tx_, T_ = _floats(x, t_x, T)
    n_patients = int(x_.size if weights is None else np.sum(weights))
    if x_.size == 0:
        raise FitFailed("too few patients: there are no patients to fit the BG/NBD model to")
    if np.any(x_ < 0) or np.any(tx_ < 0) or np.any(tx_ > T_) or np.any((x_ == 0) & (tx_ != 0)):
        raise ValueError("BG/NBD data must have x >= 0 and 0 <= t_x <= T, with t_x = 0 when x = 0")
    if weights is None:
        (xc, txc, Tc), w = compress(x_, tx_, T_)
    else:
        xc, txc, Tc, w = x_, tx_, T_, np.asarray(weights, dtype=np.float64)
    # Work in a time unit where the mean observation time is 1, so log(alpha) starts near 0.
    time_scale = float(np.average(Tc, weights=w))
    if not time_scale > 0:
        raise FitFailed("too few patients: every patient was first seen on the last day")
    objective = _Objective(xc, txc / time_scale, Tc / time_scale, w)
    mean_x = float(np.average(xc, weights=w))
    # Start from a negative binomial guess for the visit rate and a mild dropout.
    start = np.log(np.array([1.0, 1.0 / max(mean_x, 1e-3), 1.0, 3.0]))
    approx_hessian = None
    if xc.size > 2 * PRESOLVE_ROWS:
        # Many distinct rows: start from the optimum of a random subsample of patients.
        ws = subsample_weights(w)
        keep = ws > 0
        if np.any(xc[keep] > 0):
            sub = _Objective(xc[keep], txc[keep] / time_scale, Tc[keep] / time_scale, ws[keep])
            start, approx_hessian = presolve(sub, start)
    opt = maximise(
        objective,
        start,
        PARAM_NAMES,
        model="BG/NBD",
        total_weight=objective.total_weight,
        approx_hessian=approx_hessian,
    )
    scaled = np.exp(opt.theta)
    params = BGNBDParams(float(scaled[0]), float(scaled[1] * time_scale), float(scaled[2]), float(scaled[3]))
    # Standard errors: delta method from log parameters; alpha scales with time.
    se = np.exp(opt.theta) * opt.std_err_log
    std_err = BGNBDParams(float(se[0]), float(se[1] * time_scale), float(se[2]), float(se[3]))
    ll = float(w @ log_likelihood(params, xc, txc, Tc))
    return BGNBDFit(params, std_err, ll, n_patients, opt.iterations)


def simulate(
    params: BGNBDParams, T: ArrayLike, rng: np.random.Generator
) -> tuple[NDArray[np.int64], FloatArray]:
    """Draw ``(x, t_x)`` for patients observed for ``T`` from a BG/NBD process.

    Each patient gets ``lambda ~ Gamma(r, rate alpha)`` and ``p ~ Beta(a, b)``; the number
    of repeat visits she would make before dropping out is geometric, ``N ~ Geom(p)``
    (she drops out right after visit ``N``).  With ``K ~ Poisson(lambda T)`` arrivals in
    ``(0, T]`` she makes ``x = min(K, N)``, and the ``x``-th of ``K`` uniform arrival
    times has the distribution ``T Beta(x, K - x + 1)``.
    """
    (T_,) = _floats(T)
    n = T_.size
    lam = rng.gamma(params.r, 1.0 / params.alpha, n)
    p = rng.beta(params.a, params.b, n)
    with np.errstate(under="ignore"):
        n_alive = rng.geometric(np.maximum(p, 1e-300))
    k = rng.poisson(lam * T_)
    x = np.minimum(k, n_alive).astype(np.int64)
    t_x = np.zeros(n)
    rep = x > 0
    t_x[rep] = T_[rep] * rng.beta(x[rep], k[rep] - x[rep] + 1)
    return x, t_x
