"""A/B arithmetic: the uplift of a variant's booking rate over the holdout's, its 95 % confidence interval
(normal approximation of the difference of two proportions) and the sample size per group still needed
to tell that uplift from zero (two-sided 5 %, power 80 %)."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_ALPHA = 1.959964  # two-sided 5 %
Z_BETA = 0.841621  # power 80 %


@dataclass(frozen=True)
class Uplift:
    rate: float
    base_rate: float
    uplift: float  # rate - base_rate (percentage points as a fraction)
    low: float
    high: float
    needed_per_group: int  # more recipients per group still needed (0: enough already)


def uplift(successes: int, n: int, base_successes: int, base_n: int) -> Uplift | None:
    """None when either group is empty."""
    if n <= 0 or base_n <= 0:
        return None
    p1, p0 = successes / n, base_successes / base_n
    d = p1 - p0
    se = math.sqrt(p1 * (1 - p1) / n + p0 * (1 - p0) / base_n)
    variance = p1 * (1 - p1) + p0 * (1 - p0)
    if d == 0:
        needed = 0 if variance == 0 else -1  # no effect seen: no finite size tells it from zero
    else:
        total = math.ceil((Z_ALPHA + Z_BETA) ** 2 * variance / d**2)
        needed = max(0, total - min(n, base_n))
    return Uplift(
        rate=p1, base_rate=p0, uplift=d, low=d - Z_ALPHA * se, high=d + Z_ALPHA * se, needed_per_group=needed
    )


def p_value(successes: int, n: int, base_successes: int, base_n: int) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test (None when a group is empty or there is
    no variance at all)."""
    if n <= 0 or base_n <= 0:
        return None
    pooled = (successes + base_successes) / (n + base_n)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / base_n))
    if se == 0:
        return None
    z = (successes / n - base_successes / base_n) / se
    return math.erfc(abs(z) / math.sqrt(2))
