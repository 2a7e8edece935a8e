"""The statistics of the feedback reports (pure functions, no database).

NPS = (promoters − detractors) / answers × 100 (promoters 9-10, detractors 0-6; DESIGN.md). Its
standard error comes from the multinomial variance of one answer's score (+1 promoter, −1 detractor,
0 passive): var = (p_p + p_d − (p_p − p_d)²) / n, so SE(NPS) = 100 × √var; the 95% interval is
NPS ± 1.96 SE, clipped to [−100, 100]. CSAT: the mean of 1-5 with mean ± 1.96 s/√n.

The expectation gap of an answer = the expectation recorded at the consultation − the result the
patient rated (both 0-10). A consultant's gap is compared with the rest of the clinic (every other
consultant's answers) by a one-sided Welch z-test (is the consultant's mean gap larger?), and the
p-values of all consultants compared are corrected by Holm's step-down method (family-wise error
5%): a consultant is flagged when their corrected test rejects."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054
ALPHA = 0.05
MIN_ANSWERS_TESTED = 20  # groups with fewer gap answers are shown but not tested


def nps_interval(promoters: int, detractors: int, n: int) -> tuple[float | None, float | None, float | None]:
    """(NPS, low, high) of the 95% interval; Nones without answers."""
    if n <= 0:
        return None, None, None
    pp, pd = promoters / n, detractors / n
    nps = 100 * (pp - pd)
    var = max(pp + pd - (pp - pd) ** 2, 0.0) / n
    half = Z95 * 100 * math.sqrt(var)
    return round(nps, 1), round(max(nps - half, -100.0), 1), round(min(nps + half, 100.0), 1)


def mean_interval(total: float, squares: float, n: int) -> tuple[float | None, float | None, float | None]:
    """(mean, low, high): the normal 95% interval of a mean from its sum and sum of squares."""
    if n <= 0:
        return None, None, None
    mean = total / n
    if n == 1:
        return round(mean, 2), None, None
    var = max((squares - n * mean * mean) / (n - 1), 0.0)
    half = Z95 * math.sqrt(var / n)
    return round(mean, 2), round(mean - half, 2), round(mean + half, 2)


def upper_p(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


@dataclass
class Moments:
    n: int
    total: float
    squares: float

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else 0.0

    @property
    def var(self) -> float:
        if self.n < 2:
            return 0.0
        return max((self.squares - self.n * self.mean**2) / (self.n - 1), 0.0)


def welch_greater(group: Moments, rest: Moments) -> float | None:
    """One-sided p-value of "the group's mean is larger than the rest's" (Welch z), or None when
    either side is too small to test."""
    if group.n < MIN_ANSWERS_TESTED or rest.n < MIN_ANSWERS_TESTED:
        return None
    se = math.sqrt(group.var / group.n + rest.var / rest.n)
    if se == 0:
        return 0.0 if group.mean > rest.mean else 1.0
    return upper_p((group.mean - rest.mean) / se)


def holm(pvalues: dict[str, float], alpha: float = ALPHA) -> dict[str, float]:
    """Holm-adjusted p-values (monotone; a key is rejected at ``alpha`` when its adjusted p ≤ alpha)."""
    ordered = sorted(pvalues.items(), key=lambda kv: kv[1])
    m = len(ordered)
    out: dict[str, float] = {}
    running = 0.0
    for i, (key, p) in enumerate(ordered):
        running = max(running, min(1.0, (m - i) * p))
        out[key] = running
    return out
