"""Per-patient predictions: P(alive), expected visits, value per visit and CLV.

``CLV = margin * sum_{k=1..H} E[value] (E[Y(k months)] - E[Y((k-1) months)]) / (1 + d)^k``
with ``E[Y(t)] = E[Y(t) | x, t_x, T]`` (BG/NBD, equation 10) and ``E[value]`` the
Gamma-Gamma conditional mean.  A month is 4.345 weeks or 30.4375 days.

``E[Y(t) | ...] = P(alive) * B(t; x, T)`` where ``B`` depends on ``(x, T)`` only, so
``B`` is evaluated once per distinct ``(x, T)`` at all horizon points at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from clinicflow.analytics.clv import bgnbd, gammagamma
from clinicflow.analytics.clv.special import FitFailed
from clinicflow.analytics.clv.summary import PatientSummary

FloatArray = NDArray[np.float64]
MONTH_IN_UNITS: dict[str, float] = {"week": 4.345, "day": 30.4375}


@dataclass(frozen=True)
class Predictions:
    p_alive: FloatArray
    expected_visits: FloatArray
    expected_value: FloatArray
    clv: FloatArray


def predict(
    bg: bgnbd.BGNBDParams,
    gg: gammagamma.GammaGammaParams,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    *,
    time_unit: str,
    predict_units: float,
    horizon_months: int,
    discount_monthly: float,
    margin: float,
) -> Predictions:
    """Predictions for each patient; see the module docstring for the CLV formula."""
    x_, tx_, T_, m_ = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(x, t_x, T, monetary))
    if horizon_months < 0 or predict_units < 0:
        raise ValueError("the prediction period and the horizon must not be negative")
    if discount_monthly <= -1.0:
        raise ValueError("the monthly discount rate must be above -1")
    if np.any(x_ == 0) and gg.q <= 1.0:
        raise FitFailed(
            f"the Gamma-Gamma fit gives q = {gg.q:.4g} <= 1, so the mean value of a visit is "
            "infinite and the value of patients without repeat visits cannot be predicted"
        )
    month = MONTH_IN_UNITS[time_unit]

    p_alive = bgnbd.probability_alive(bg, x_, tx_, T_)
    (ux, uT), inverse = bgnbd.unique_rows(x_, T_)
    # Horizon points: the --predict period, then months 1..H.
    times = np.concatenate(([predict_units], month * np.arange(1, horizon_months + 1)))
    grid_x = np.broadcast_to(ux, (times.size, ux.size))
    grid_T = np.broadcast_to(uT, (times.size, ux.size))
    grid_t = np.broadcast_to(times[:, None], (times.size, ux.size))
    with np.errstate(under="ignore"):
        b_if_alive = bgnbd._expected_if_alive(bg, grid_x, grid_T, grid_t)
    expected_visits = p_alive * b_if_alive[0][inverse]
    cumulative = np.vstack((np.zeros((1, ux.size)), b_if_alive[1:]))
    increments = np.diff(cumulative, axis=0)
    discount = (1.0 + discount_monthly) ** -np.arange(1, horizon_months + 1, dtype=np.float64)
    discounted_visits_if_alive = discount @ increments if horizon_months else np.zeros(ux.size)

    expected_value = gammagamma.conditional_expected_value(gg, x_, np.where(x_ > 0, m_, 0.0))
    clv = margin * expected_value * p_alive * discounted_visits_if_alive[inverse]
    return Predictions(p_alive, expected_visits, expected_value, clv)


MIN_PATIENTS = 10


@dataclass(frozen=True)
class ClvResult:
    summary: PatientSummary
    bgnbd: bgnbd.BGNBDFit
    gamma_gamma: gammagamma.GammaGammaFit
    predictions: Predictions
    predict_units: float
    horizon_months: int


def analyse(
    summary: PatientSummary,
    *,
    predict_units: float,
    horizon_months: int = 12,
    discount_monthly: float = 0.01,
    margin: float = 1.0,
) -> ClvResult:
    """Fit both models to a summary and predict every patient.

    Raises :class:`FitFailed` with a message naming the problem when the models cannot
    describe the data (too few patients, no repeat visits, a fit that does not converge).
    """
    n = len(summary)
    if n < MIN_PATIENTS:
        raise FitFailed(
            f"too few patients: the models need at least {MIN_PATIENTS} patients first seen "
            f"on or before {summary.until.isoformat()}, found {n}"
        )
    x = summary.frequency.astype(np.float64)
    if not np.any(x > 0):
        raise FitFailed(
            "no repeat visits: no patient came back on a second day up to "
            f"{summary.until.isoformat()}, so the visit and value models cannot be fitted"
        )
    monetary = summary.monetary_float
    bg_fit = bgnbd.fit(x, summary.recency, summary.T)
    gg_fit = gammagamma.fit(x, monetary)
    predictions = predict(
        bg_fit.params,
        gg_fit.params,
        x,
        summary.recency,
        summary.T,
        monetary,
        time_unit=summary.time_unit,
        predict_units=predict_units,
        horizon_months=horizon_months,
        discount_monthly=discount_monthly,
        margin=margin,
    )
    return ClvResult(summary, bg_fit, gg_fit, predictions, predict_units, horizon_months)
