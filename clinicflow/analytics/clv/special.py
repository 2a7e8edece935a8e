"""Special functions for the CLV models, computed in log space.

The BG/NBD conditional expectation needs the Gaussian hypergeometric function
``2F1(r + x, b + x; a + b + x - 1; z)`` with ``0 <= z < 1``.  For a patient with many
visits the parameters are large and the plain series overflows (its terms first
grow like ``(x z)^n / n!``), while ``2F1`` itself behaves like ``(1 - z)^(c - a - b)``.
:func:`hyp2f1_log` therefore

1. applies Euler's transformation ``2F1(a, b; c; z) = (1 - z)^(c - a - b) 2F1(c - a, c - b; c; z)``
   whenever ``c - a - b < 0`` and the new parameters stay above -1 (so the terms cannot
   cancel); with the BG/NBD arguments this turns the two large numerator parameters
   into the small, fixed ``a + b - 1 - r`` and ``a - 1``;
2. sums the series with a per-element running scale so that no intermediate value can
   overflow, and stops each element once a geometric bound on the remaining tail is
   below the tolerance.

Everything is vectorised over broadcast arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

FloatArray = NDArray[np.float64]

# Rescale a running sum once its magnitude passes this, long before float64 overflows.
_RESCALE_ABOVE = 1e200


class SeriesDidNotConverge(ArithmeticError):
    """The hypergeometric series needed more terms than allowed."""


def hyp2f1_log(
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike,
    z: ArrayLike,
    *,
    rtol: float = 1e-15,
    max_terms: int = 2_000_000,
) -> tuple[FloatArray, FloatArray]:
    """Return ``(log|2F1(a, b; c; z)|, sign)`` for real parameters and ``0 <= z < 1``.

    ``c`` must not be zero or a negative integer.  The result is exact to about
    ``rtol`` relative (a few ulps more when the series alternates).
    """
    a_, b_, c_, z_ = np.broadcast_arrays(
        np.asarray(a, dtype=np.float64),
        np.asarray(b, dtype=np.float64),
        np.asarray(c, dtype=np.float64),
        np.asarray(z, dtype=np.float64),
    )
    shape = a_.shape
    a_, b_, c_, z_ = (np.ravel(v).copy() for v in (a_, b_, c_, z_))
    if not (np.all(np.isfinite(z_)) and np.all(z_ >= 0.0) and np.all(z_ < 1.0)):
        raise ValueError("hyp2f1_log needs 0 <= z < 1")
    if not (np.all(np.isfinite(a_)) and np.all(np.isfinite(b_)) and np.all(np.isfinite(c_))):
        raise ValueError("hyp2f1_log needs finite parameters")
    if np.any((c_ <= 0.0) & (c_ == np.round(c_))):
        raise ValueError("hyp2f1_log is undefined for c = 0, -1, -2, ...")

    with np.errstate(under="ignore"):
        # Euler's transformation where it shrinks the series (c - a - b < 0) without
        # creating large negative parameters (whose alternating terms would cancel).
        prefactor = np.zeros_like(z_)
        # (A zero parameter makes the transformed series the constant 1.)
        euler = ((c_ - a_ - b_) < 0.0) & ((((c_ - a_) > -1.0) & ((c_ - b_) > -1.0)) | (c_ == a_) | (c_ == b_))
        if np.any(euler):
            s = c_[euler] - a_[euler] - b_[euler]
            prefactor[euler] = s * np.log1p(-z_[euler])
            a_e = c_[euler] - a_[euler]
            b_e = c_[euler] - b_[euler]
            a_[euler] = a_e
            b_[euler] = b_e
        log_abs, sign = _series_log(a_, b_, c_, z_, rtol=rtol, max_terms=max_terms)
    return (log_abs + prefactor).reshape(shape), sign.reshape(shape)


def _series_log(
    a: FloatArray, b: FloatArray, c: FloatArray, z: FloatArray, *, rtol: float, max_terms: int
) -> tuple[FloatArray, FloatArray]:
    """Sum ``sum_n (a)_n (b)_n / ((c)_n n!) z^n`` with a running log scale per element.

    The term ratio is ``rho_n = q_n z`` with ``q_n = (a + n)(b + n) / ((c + n)(n + 1)) -> 1``.
    Past a gate index ``k`` the future ratios are bounded by ``max(z, |rho_n|) < 1``: when
    ``a + b - c - 1 < 0``, ``q_n <= 1`` for ``n >= k* = (a b - c) / (c + 1 - a - b)``; otherwise
    ``q_n`` decreases towards 1 once ``n`` exceeds the parameters' scale.  The tail after a
    term ``t`` is then at most ``|t| rho / (1 - rho)``.
    """
    size = a.size
    out_log = np.zeros(size)
    out_sign = np.ones(size)
    slope = a + b - c - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        k_below = np.maximum((a * b - c) / np.where(slope < 0.0, -slope, 1.0), 0.0)
    k_gate = np.where(slope < 0.0, k_below, 2.0 * (np.abs(a) + np.abs(b) + np.abs(c) + 1.0))

    idx = np.arange(size)
    term = np.ones(size)
    total = np.ones(size)
    log_scale = np.zeros(size)
    a_act, b_act, c_act, z_act, k_act = a, b, c, z, k_gate
    n = 0
    while idx.size:
        if n >= max_terms:
            raise SeriesDidNotConverge(f"2F1 series did not converge in {max_terms} terms")
        ratio = (a_act + n) * (b_act + n) / ((c_act + n) * (n + 1.0)) * z_act
        term = term * ratio
        total = total + term
        n += 1
        big = np.abs(total) > _RESCALE_ABOVE
        if np.any(big):
            scale = np.abs(total[big])
            total[big] /= scale
            term[big] /= scale
            log_scale[big] += np.log(scale)
        rho = np.maximum(np.abs(ratio), z_act)
        done = (n >= k_act) & (rho < 1.0) & (np.abs(term) * rho <= rtol * np.abs(total) * (1.0 - rho))
        if np.any(done):
            finished = idx[done]
            out_log[finished] = np.log(np.abs(total[done])) + log_scale[done]
            out_sign[finished] = np.sign(total[done])
            keep = ~done
            idx = idx[keep]
            term, total, log_scale = term[keep], total[keep], log_scale[keep]
            a_act, b_act, c_act, z_act, k_act = (
                a_act[keep],
                b_act[keep],
                c_act[keep],
                z_act[keep],
                k_act[keep],
            )
    return out_log, out_sign


def log_sigmoid_parts(d: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Return ``(log(1 + e^d), e^d / (1 + e^d))`` without overflow for any real ``d``."""
    with np.errstate(under="ignore"):
        e = np.exp(-np.abs(d))
        softplus = np.maximum(d, 0.0) + np.log1p(e)
        sigmoid = np.where(d >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
    return softplus, sigmoid


# ----------------------------------------------------------------------------------
# Maximum likelihood on log parameters, shared by the BG/NBD and Gamma-Gamma fits.


class FitFailed(Exception):
    """The data cannot be described by the model (the message says why)."""


class ParameterDrift(FitFailed):
    """Some parameters ran off towards 0 or infinity (a boundary of the model).

    ``names`` are the drifting parameters and ``theta`` the log parameters where the
    optimiser stopped, so a caller can recognise a known boundary and refit its limit.
    """

    def __init__(self, message: str, names: Sequence[str], theta: FloatArray) -> None:
        super().__init__(message)
        self.names = tuple(names)
        self.theta = theta


Objective = Callable[[FloatArray], tuple[float, FloatArray]]

# log-parameter box: parameters between about 1e-11 and 1e11 (in the scaled units).
_LOG_BOUND = 25.0


@dataclass(frozen=True)
class Optimum:
    theta: FloatArray
    std_err_log: FloatArray
    iterations: int


def maximise(
    objective: Objective,
    start: FloatArray,
    names: Sequence[str],
    *,
    model: str,
    total_weight: float,
    approx_hessian: FloatArray | None = None,
) -> Optimum:
    """Minimise a mean negative log-likelihood over log parameters with L-BFGS-B.

    With ``approx_hessian`` (e.g. a subsample's, from :func:`presolve`) it first takes
    Newton steps with that fixed matrix, which converge in a few evaluations when the
    start is close; L-BFGS-B takes over if they do not.  Returns the optimum and the
    standard errors of the log parameters from the inverse of the observed information
    (a forward-difference Hessian of the analytic gradient, times ``total_weight``).
    Raises :class:`FitFailed` with a plain-language reason.
    """
    k = len(names)
    theta: FloatArray | None = None
    iterations = 0
    message = ""
    try:
        if approx_hessian is not None:
            theta, iterations = _newton(objective, start, approx_hessian)
        if theta is None:
            res = minimize(
                objective,
                start,
                jac=True,
                method="L-BFGS-B",
                bounds=[(-_LOG_BOUND, _LOG_BOUND)] * k,
                options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20},
            )
            theta, iterations, message = np.asarray(res.x, dtype=np.float64), int(res.nit), str(res.message)
        value, grad = objective(theta)
    except (FloatingPointError, ValueError, SeriesDidNotConverge) as exc:
        raise FitFailed(f"the {model} fit did not converge (numerical failure: {exc})") from exc
    if not (np.isfinite(value) and np.all(np.isfinite(grad))):
        raise FitFailed(f"the {model} fit did not converge (the likelihood is not finite at the end)")
    runaway = [names[i] for i in range(k) if abs(theta[i]) > _LOG_BOUND - 1.0]
    if runaway:
        raise ParameterDrift(
            f"the {model} fit did not converge: {', '.join(runaway)} ran off towards "
            "0 or infinity (the data do not pin the model down)",
            runaway,
            theta,
        )
    if float(np.max(np.abs(grad))) > 1e-6:
        drifting = [names[i] for i in range(k) if abs(theta[i] - start[i]) > 10.0]
        if drifting:
            raise ParameterDrift(
                f"the {model} fit did not converge: {', '.join(drifting)} drift towards 0 or "
                "infinity (the likelihood keeps rising along a boundary of the model, so the "
                "data do not pin its parameters down)",
                drifting,
                theta,
            )
        raise FitFailed(
            f"the {model} fit did not converge ({message}; largest gradient {np.max(np.abs(grad)):.2g})"
        )
    hessian = _hessian(objective, theta, grad) * total_weight
    try:
        eigenvalues = np.linalg.eigvalsh(hessian)
    except np.linalg.LinAlgError as exc:
        raise FitFailed(f"the {model} fit did not converge (the information matrix is singular)") from exc
    if not np.all(np.isfinite(eigenvalues)) or eigenvalues.min() <= 1e-12 * max(eigenvalues.max(), 1e-300):
        flat = (
            f"the {model} fit did not converge: the likelihood is flat in some direction, "
            "so the parameters are not identified by these data"
        )
        if np.all(np.isfinite(hessian)):
            # flat along parameters that went far out (e.g. BG/NBD's a, b -> infinity: the CPU's
            # rounding decides whether the optimiser stops there or drifts on): a boundary the
            # caller may know and refit as its limit
            vector = np.linalg.eigh(hessian)[1][:, 0]
            far = [names[i] for i in range(k) if abs(vector[i]) > 0.1 and abs(theta[i]) > 10.0]
            if far:
                raise ParameterDrift(flat, far, theta)
        raise FitFailed(flat)
    cov = np.linalg.inv(hessian)
    return Optimum(theta, np.sqrt(np.diag(cov)), iterations)


def _hessian(objective: Objective, theta: FloatArray, grad: FloatArray | None = None) -> FloatArray:
    """Symmetrised finite-difference Jacobian of the analytic gradient.

    Central differences, or forward differences from ``grad`` (the gradient at ``theta``)
    when it is given.
    """
    k = theta.size
    h = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        if grad is None:
            e[i] = 1e-4
            h[i] = (objective(theta + e)[1] - objective(theta - e)[1]) / 2e-4
        else:
            e[i] = 1e-5
            h[i] = (objective(theta + e)[1] - grad) / 1e-5
    return 0.5 * (h + h.T)


def _newton(
    objective: Objective, start: FloatArray, hessian: FloatArray, *, max_steps: int = 20
) -> tuple[FloatArray | None, int]:
    """Newton steps with a fixed Hessian and step halving; ``None`` if they stall."""
    theta = start
    value, grad = objective(theta)
    for step_count in range(1, max_steps + 1):
        if float(np.max(np.abs(grad))) < 1e-10:
            return theta, step_count - 1
        step = np.linalg.solve(hessian, grad)
        scale = 1.0
        while True:
            candidate = theta - scale * step
            if np.any(np.abs(candidate) > _LOG_BOUND):
                return None, step_count
            new_value, new_grad = objective(candidate)
            if np.isfinite(new_value) and new_value <= value + 1e-15 * abs(value):
                break
            scale /= 2.0
            if scale < 1e-3:
                return None, step_count
        theta, value, grad = candidate, new_value, new_grad
    return (theta if float(np.max(np.abs(grad))) < 1e-8 else None), max_steps


# Fits on more rows than this start from the optimum of a random subsample of about this size.
PRESOLVE_ROWS = 60_000


def presolve(objective: Objective, start: FloatArray) -> tuple[FloatArray, FloatArray | None]:
    """A loose optimum of ``objective`` (a subsample's) and its Hessian, to start a full fit.

    Falls back to ``(start, None)`` if the subsample fit fails in any way.
    """
    try:
        with np.errstate(all="ignore"):
            res = minimize(
                objective,
                start,
                jac=True,
                method="L-BFGS-B",
                bounds=[(-_LOG_BOUND, _LOG_BOUND)] * start.size,
                options={"maxiter": 500, "ftol": 1e-12, "gtol": 1e-8},
            )
            theta = np.asarray(res.x, dtype=np.float64)
            if not (np.all(np.isfinite(theta)) and np.all(np.abs(theta) < _LOG_BOUND - 5.0)):
                return start, None
            hessian = _hessian(objective, theta)
    except (FloatingPointError, ValueError, ArithmeticError):
        return start, None
    if not np.all(np.isfinite(hessian)) or np.linalg.eigvalsh(hessian).min() <= 0:
        return theta, None
    return theta, hessian


def subsample_weights(weights: FloatArray, rows: int = PRESOLVE_ROWS, seed: int = 2005) -> FloatArray:
    """Binomially thinned integer weights, keeping each patient with probability rows / len."""
    fraction = min(1.0, rows / max(weights.size, 1))
    rng = np.random.default_rng(seed)
    return rng.binomial(np.round(weights).astype(np.int64), fraction).astype(np.float64)
