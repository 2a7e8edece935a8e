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
from scipy.special import gammaln

from clinicflow.analytics.clv.special import hyp2f1_log, log_sigmoid_parts

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
