"""Poisson regression with a log link (iteratively reweighted least squares), its standard errors
scaled by the Pearson dispersion (quasi-Poisson): counts of calls and first visits are overdispersed,
and a zero month is data, not a gap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_ITER = 50
TOL = 1e-9


@dataclass(frozen=True)
class Fit:
    coef: np.ndarray
    se: np.ndarray
    dispersion: float
    n: int
    mu: np.ndarray
    cov: np.ndarray

    def ci(self, i: int, z: float = 1.96) -> tuple[float, float]:
        return float(self.coef[i] - z * self.se[i]), float(self.coef[i] + z * self.se[i])


class Unidentified(ValueError):
    """The design cannot separate the effects asked for (too little variation)."""


def poisson(x: np.ndarray, y: np.ndarray) -> Fit:
    n, p = x.shape
    if n <= p:
        raise Unidentified(f"{n} observations for {p} parameters")
    if np.linalg.matrix_rank(x) < p:
        raise Unidentified("the history does not vary enough to separate the effects")
    beta = np.full(p, np.inf)
    eta = np.log(y + 0.5)  # the usual start: each count as its own mean
    for _ in range(MAX_ITER):
        mu = np.exp(np.clip(eta, -30, 30))
        z = eta + (y - mu) / mu
        w = mu
        xtw = x.T * w
        new = np.linalg.solve(xtw @ x, xtw @ z)
        done = np.max(np.abs(new - beta)) < TOL
        beta = new
        eta = x @ beta
        if done:
            break
    mu = np.exp(np.clip(eta, -30, 30))
    dispersion = max(float(((y - mu) ** 2 / mu).sum() / (n - p)), 1.0)
    cov = np.linalg.inv((x.T * mu) @ x) * dispersion
    return Fit(coef=beta, se=np.sqrt(np.diag(cov)), dispersion=dispersion, n=n, mu=mu, cov=cov)
