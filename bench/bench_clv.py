"""Benchmark of the CLV engine on 1,000,000 simulated patients.

Patients are first seen uniformly over two years before the cut-off and visit as a
BG/NBD process with value per visit from a Gamma-Gamma process (fixed seed); visit
times are rounded to whole days, as a clinic's records are.  Times, in weeks:

    BENCH clv_fit_1m_s <seconds> s       fitting both models (maximum likelihood + standard errors)
    BENCH clv_predict_1m_s <seconds> s   P(alive), expected visits, value and 12-month CLV

Run: .venv/bin/python bench/bench_clv.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clinicflow.analytics.clv import bgnbd, gammagamma
from clinicflow.analytics.clv.predict import MONTH_IN_UNITS, predict

N = 1_000_000
SEED = 20250101
TRUE_BGNBD = bgnbd.BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
TRUE_GG = gammagamma.GammaGammaParams(p=6.25, q=3.74, v=15.44)


def simulate(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    t_days = rng.integers(0, 731, N)
    x, t_x = bgnbd.simulate(TRUE_BGNBD, t_days / 7.0, rng)
    t_x_days = np.minimum(np.round(t_x * 7.0), t_days)
    # Two visits on one day are one visit: keep t_x >= 1 day for patients with repeats.
    t_x_days = np.where(x > 0, np.maximum(t_x_days, 1), 0)
    keep = t_days >= np.where(x > 0, 1, 0)
    monetary = gammagamma.simulate(TRUE_GG, x, rng)
    return x[keep], t_x_days[keep] / 7.0, t_days[keep] / 7.0, monetary[keep]


def main() -> None:
    x, t_x, T, monetary = simulate(np.random.default_rng(SEED))
    with np.errstate(all="raise", under="ignore"):
        start = time.perf_counter()
        bg = bgnbd.fit(x, t_x, T)
        gg = gammagamma.fit(x, monetary)
        fit_s = time.perf_counter() - start

        start = time.perf_counter()
        result = predict(
            bg.params,
            gg.params,
            x,
            t_x,
            T,
            monetary,
            time_unit="week",
            predict_units=12 * MONTH_IN_UNITS["week"],
            horizon_months=12,
            discount_monthly=0.01,
            margin=1.0,
        )
        predict_s = time.perf_counter() - start
    assert np.all(np.isfinite(result.clv))
    print(f"BENCH clv_fit_1m_s {fit_s:.3f} s")
    print(f"BENCH clv_predict_1m_s {predict_s:.3f} s")


if __name__ == "__main__":
    main()
