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
    ParameterDrift,
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

# The homogeneous-dropout boundary: when a and b grow together the beta distribution of
# the dropout probability degenerates to the point p = a / (a + b).  A fit that ends
# there reports a + b = HOMOGENEOUS_AB, and from a + b >= _LIMIT_AB on, the expected
# visits use the closed form of the limit (its relative error is about x / (a + b)).
HOMOGENEOUS_AB = 1e6
_LIMIT_AB = 0.999 * HOMOGENEOUS_AB
BOUNDARY_HOMOGENEOUS = "homogeneous_dropout"


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
    if a + b >= _LIMIT_AB:
        # a, b -> infinity with p = a / (a + b): the bracket tends to
        # (1 / p) [1 - ((alpha + T) / (alpha + T + p t))^(r + x)].
        p = a / (a + b)
        log_ratio = -np.log1p(p * t / (alpha + T))
        return np.asarray(-np.expm1((r + x) * log_ratio) / p, dtype=np.float64)
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
        ab = a + b
        xv, wxv = self.x_values, self.x_weights
        ll, g_r, g_alpha, wp4_by_x = self._shared(r, alpha, np.log(a) - np.log(b + xv - 1.0))
        g_a = 0.0
        g_b = 0.0
        if self.x1.size:
            # A2 of equation 6, per distinct x.
            ll += float(wxv @ (gammaln(ab) + gammaln(b + xv) - gammaln(b) - gammaln(ab + xv)))
            g_a += float(wxv @ (digamma(ab) - digamma(ab + xv)))
            g_b += float(wxv @ (digamma(ab) + digamma(b + xv) - digamma(b) - digamma(ab + xv)))
            g_a += float(wp4_by_x.sum()) / a
            g_b -= float(wp4_by_x @ (1.0 / (b + xv - 1.0)))
        grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
        return -ll / self.total_weight, -grad / self.total_weight

    def _shared(
        self, r: float, alpha: float, log_odds_x: FloatArray
    ) -> tuple[float, float, float, FloatArray]:
        """The terms in r and alpha, and ``log(1 + exp(A4 - A3))`` with ``log(a/(b + x - 1))`` given.

        Returns the log-likelihood sum, its derivatives in r and alpha, and the weighted
        ``sigmoid(A4 - A3)`` summed per distinct x (for the derivatives in the dropout
        parameters).
        """
        xv, wxv = self.x_values, self.x_weights
        # Patients without repeat visits.
        l0 = np.log(alpha) - np.log(alpha + self.T0)
        ll = r * float(self.w0 @ l0)
        g_r = float(self.w0 @ l0)
        g_alpha = r * float(self.w0 @ (1.0 / alpha - 1.0 / (alpha + self.T0)))
        if not self.x1.size:
            return ll, g_r, g_alpha, np.zeros(xv.size)
        # A1 of equation 6, per distinct x.
        ll += float(wxv @ (gammaln(r + xv) - gammaln(r) + r * np.log(alpha)))
        g_r += float(wxv @ (digamma(r + xv) - digamma(r) + np.log(alpha)))
        g_alpha += float(wxv.sum()) * r / alpha
        # A3 = -(r + x) log(alpha + T), summed through the weights of each distinct T.
        log_T_values = np.log(alpha + self.T_values)
        inv_T_values = 1.0 / (alpha + self.T_values)
        ll -= r * float(self.w_T @ log_T_values) + float(self.wx_T @ log_T_values)
        g_r -= float(self.w_T @ log_T_values)
        g_alpha -= r * float(self.w_T @ inv_T_values) + float(self.wx_T @ inv_T_values)
        # log(1 + exp(A4 - A3)), A4 - A3 = log(a/(b + x - 1)) + (r + x) log((alpha + T)/(alpha + t_x)).
        diff = log_T_values[self.iT] - np.log(alpha + self.tx_values)[self.itx]
        rx = r + self.x1
        softplus, p4 = log_sigmoid_parts(log_odds_x[self.ix] + rx * diff)
        self.last_p4 = p4
        w = self.w1
        ll += float(w @ softplus)
        wp4 = w * p4
        g_r += float(wp4 @ diff)
        wp4rx = wp4 * rx
        g_alpha += float(np.bincount(self.iT, weights=wp4rx, minlength=inv_T_values.size) @ inv_T_values)
        inv_tx_values = 1.0 / (alpha + self.tx_values)
        g_alpha -= float(np.bincount(self.itx, weights=wp4rx, minlength=inv_tx_values.size) @ inv_tx_values)
        wp4_by_x = np.bincount(self.ix, weights=wp4, minlength=xv.size).astype(np.float64)
        return ll, g_r, g_alpha, wp4_by_x


class _HomogeneousObjective(_Objective):
    """The limit a, b -> infinity with ``p = a / (a + b)``: every patient drops out with ``p``.

    Parameters ``(log r, log alpha, logit p)``.  Equation (6) becomes
    ``G(r + x) alpha^r / G(r) [(1 - p)^x / (alpha + T)^(r + x)
    + [x > 0] p (1 - p)^(x - 1) / (alpha + t_x)^(r + x)]``: the ratio of beta functions
    tends to ``(1 - p)^x`` and ``a / (b + x - 1)`` to ``p / (1 - p)``.
    """

    def __call__(self, theta: FloatArray) -> tuple[float, FloatArray]:
        r, alpha = np.exp(theta[:2])
        u = float(theta[2])
        p = _expit(u)
        log_1mp = -float(np.logaddexp(0.0, u))  # log(1 - p)
        xv, wxv = self.x_values, self.x_weights
        ll, g_r, g_alpha, wp4_by_x = self._shared(r, alpha, np.full(xv.size, u))
        sum_x = float(wxv @ xv)
        ll += sum_x * log_1mp
        # d/du of x log(1 - p) is -x p; d/du of log(p / (1 - p)) is 1.
        g_u = -sum_x * p + float(wp4_by_x.sum())
        grad = np.array([g_r * r, g_alpha * alpha, g_u])
        return -ll / self.total_weight, -grad / self.total_weight

    def kappa_score(self, theta: FloatArray) -> float:
        """Mean derivative of the log-likelihood in ``kappa = 1 / (a + b)`` at ``kappa = 0``.

        With ``a = p / kappa`` and ``b = (1 - p) / kappa`` the two terms of equation (6)
        change at rates ``p/(1 - p) x(x - 1)/2`` and ``(x - 1)(x - 2)/(2(1 - p)) - x(x - 1)/2``
        (relative), mixed with the weights ``1 - sigmoid(A4 - A3)`` and ``sigmoid(A4 - A3)``.
        A negative score means the likelihood falls as soon as the dropout probability
        varies between patients: the homogeneous limit is the maximum.
        """
        self(theta)
        if not self.x1.size:
            return 0.0
        p = _expit(float(theta[2]))
        x = self.x1
        d_first = p / (1.0 - p) * x * (x - 1.0) / 2.0
        d_second = (x - 1.0) * (x - 2.0) / (2.0 * (1.0 - p)) - x * (x - 1.0) / 2.0
        p4 = self.last_p4
        return float(self.w1 @ ((1.0 - p4) * d_first + p4 * d_second)) / self.total_weight


def _expit(u: float) -> float:
    return float(1.0 / (1.0 + math.exp(-u))) if u >= 0 else float(math.exp(u) / (1.0 + math.exp(u)))


@dataclass(frozen=True)
class BGNBDFit:
    params: BGNBDParams
    std_err: BGNBDParams
    log_likelihood: float
    n_patients: int
    iterations: int
    # "homogeneous_dropout" when the fit ended at a, b -> infinity (then a + b is
    # HOMOGENEOUS_AB, std_err.a and std_err.b are nan, and p_dropout is the identified p).
    boundary: str | None = None
    p_dropout: float | None = None
    p_dropout_se: float | None = None


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
    try:
        opt = maximise(
            objective,
            start,
            PARAM_NAMES,
            model="BG/NBD",
            total_weight=objective.total_weight,
            approx_hessian=approx_hessian,
        )
    except ParameterDrift as drift:
        if not {"a", "b"} & set(drift.names):
            raise
        return _fit_homogeneous(drift, (xc, txc, Tc, w), time_scale, n_patients)
    scaled = np.exp(opt.theta)
    params = BGNBDParams(float(scaled[0]), float(scaled[1] * time_scale), float(scaled[2]), float(scaled[3]))
    # Standard errors: delta method from log parameters; alpha scales with time.
    se = np.exp(opt.theta) * opt.std_err_log
    std_err = BGNBDParams(float(se[0]), float(se[1] * time_scale), float(se[2]), float(se[3]))
    ll = float(w @ log_likelihood(params, xc, txc, Tc))
    return BGNBDFit(params, std_err, ll, n_patients, opt.iterations)


def log_likelihood_homogeneous(
    r: float, alpha: float, p: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> FloatArray:
    """Per-patient log-likelihood of the limit a, b -> infinity with a / (a + b) = p."""
    x_, tx_, T_ = _floats(x, t_x, T)
    a1 = gammaln(r + x_) - gammaln(r) + r * math.log(alpha)
    repeat = x_ > 0
    with np.errstate(divide="ignore"):
        odds = np.where(
            repeat, math.log(p / (1.0 - p)) + (r + x_) * (np.log(alpha + T_) - np.log(alpha + tx_)), -np.inf
        )
    softplus, _ = log_sigmoid_parts(odds)
    return np.asarray(a1 + x_ * math.log1p(-p) - (r + x_) * np.log(alpha + T_) + softplus, dtype=np.float64)


def _fit_homogeneous(
    drift: ParameterDrift,
    data: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    time_scale: float,
    n_patients: int,
) -> BGNBDFit:
    """Refit at the boundary a, b -> infinity after the general fit drifted there.

    The limit (r, alpha, p) is fitted as a model of its own.  It is accepted when the
    likelihood falls as heterogeneity ``kappa = 1/(a + b)`` enters (score in kappa at 0
    not positive) and when the likelihood and P(alive) at a + b = 1e6 and 1e7 agree with
    the limit; otherwise the drift is reported as a failure.
    """
    xc, txc, Tc, w = data
    homogeneous = _HomogeneousObjective(xc, txc / time_scale, Tc / time_scale, w)
    log_r, log_alpha, log_a, log_b = (float(v) for v in drift.theta)
    start = np.array([log_r, log_alpha, float(np.clip(log_a - log_b, -10.0, 10.0))])
    try:
        opt = maximise(
            homogeneous,
            start,
            ("r", "alpha", "p"),
            model="BG/NBD (same dropout probability for every patient)",
            total_weight=homogeneous.total_weight,
        )
    except FitFailed as exc:
        # The limit does not describe the data either: report the general fit's failure.
        raise drift from exc
    # (The general likelihood where the drift stopped, a + b ~ 1e10, is too inexact to
    # compare with: its log-gamma terms cancel to about 1e-4.)
    if homogeneous.kappa_score(opt.theta) > 1e-9:
        raise drift
    r, alpha_scaled = (float(v) for v in np.exp(opt.theta[:2]))
    alpha = alpha_scaled * time_scale
    p = _expit(float(opt.theta[2]))
    ll = float(w @ log_likelihood_homogeneous(r, alpha, p, xc, txc, Tc))
    near = BGNBDParams(r, alpha, p * HOMOGENEOUS_AB, (1.0 - p) * HOMOGENEOUS_AB)
    far = BGNBDParams(r, alpha, p * 10 * HOMOGENEOUS_AB, (1.0 - p) * 10 * HOMOGENEOUS_AB)
    ll_near = float(w @ log_likelihood(near, xc, txc, Tc))
    ll_far = float(w @ log_likelihood(far, xc, txc, Tc))
    alive_near, alive_far = (probability_alive(params, xc, txc, Tc) for params in (near, far))
    alive_gap = float(np.max(np.abs(alive_near - alive_far), initial=0.0))
    if not (abs(ll_far - ll) <= abs(ll_near - ll) + 1e-6 * max(1.0, abs(ll)) and alive_gap < 1e-3):
        raise FitFailed(
            "the BG/NBD fit did not converge: a, b drift towards infinity, but the predictions "
            "at a + b = 1e6 and 1e7 still differ"
        )
    se = np.exp(opt.theta[:2]) * opt.std_err_log[:2]
    p_se = p * (1.0 - p) * float(opt.std_err_log[2])
    nan = float("nan")
    std_err = BGNBDParams(float(se[0]), float(se[1]) * time_scale, nan, nan)
    return BGNBDFit(
        near,
        std_err,
        ll,
        n_patients,
        opt.iterations,
        boundary=BOUNDARY_HOMOGENEOUS,
        p_dropout=p,
        p_dropout_se=p_se,
    )


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
