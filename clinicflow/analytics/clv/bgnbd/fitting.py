"""Maximum-likelihood fit of the BG/NBD model (``bgnbd.model``), with standard errors, and its
homogeneous-dropout boundary (a, b -> infinity with a / (a + b) fixed)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln

from clinicflow.analytics.clv.bgnbd.model import (
    BOUNDARY_HOMOGENEOUS,
    HOMOGENEOUS_AB,
    PARAM_NAMES,
    BGNBDParams,
    FloatArray,
    _floats,
    log_likelihood,
    probability_alive,
)
from clinicflow.analytics.clv.special import (
    PRESOLVE_ROWS,
    FitFailed,
    ParameterDrift,
    log_sigmoid_parts,
    maximise,
    presolve,
    subsample_weights,
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
    if float(scaled[2] + scaled[3]) >= HOMOGENEOUS_AB:
        # Converged out at the homogeneous boundary instead of drifting on to it (the CPU's
        # rounding decides which: seen at a + b ~ 4e7): the limit is refitted the same way,
        # and the general optimum kept when the limit is rejected.
        at = ParameterDrift("a, b ran off to infinity", ("a", "b"), opt.theta)
        try:
            return _fit_homogeneous(at, (xc, txc, Tc, w), time_scale, n_patients)
        except ParameterDrift:
            pass
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
