"""Poisson regression with a log link (iteratively reweighted least squares), its standard errors
scaled by the Pearson dispersion (quasi-Poisson): counts of calls and first visits are overdispersed,
and a zero month is data, not a gap.

The fits carry one level per series (a branch-and-channel's calls, a branch's first visits): given
as ``groups``, those columns are never built. Their block of the weighted normal equations is
diagonal, so each step solves the few shared coefficients through the Schur complement and the
levels from them, and the covariance comes out of the same blocks — the same estimates as the dense
design [one-hot levels | x], at a cost that does not grow with the number of series squared (the
dense 3,360 × 158 design of a 20-branch chain took 0.15 s with one BLAS thread, 2.5 s with two on a
loaded machine). The products over the rows are ``einsum`` loops, not the BLAS: its thread pool
stalls for tens of milliseconds a product when the cores are shared."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_ITER = 50
TOL = 1e-9
RANK_TOL = 1e-10


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


def _group_sums(groups: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    """Per group the column sums of ``values`` (rows × k)."""
    out = np.zeros((count, values.shape[1]))
    np.add.at(out, groups, values)
    return out


def _rank(x: np.ndarray, raw: np.ndarray) -> int:
    """The rank of ``x`` (rows × k, k small; ``raw``: the columns before the levels were taken out).
    A column left with less than ``RANK_TOL`` of its raw length is none (rounding); the others are
    scaled to unit length, and those their k × k cross products' eigenvalues count above
    ``RANK_TOL`` of the largest (a column that the others explain to within 1e-5 of its length is
    none). The SVD of the rows gave the same and stalled on the BLAS threads of a shared machine."""
    norms = np.sqrt(np.einsum("ni,ni->i", x, x))
    left = norms > RANK_TOL * np.sqrt(np.einsum("ni,ni->i", raw, raw))
    if not left.any():
        return 0
    scaled = x[:, left] / norms[left]
    eig = np.linalg.eigvalsh(np.einsum("ni,nj->ij", scaled, scaled))
    return int((eig > RANK_TOL * eig.max()).sum())


def poisson(x: np.ndarray, y: np.ndarray, groups: np.ndarray | None = None, n_groups: int = 0) -> Fit:
    """``groups`` (row → 0..n_groups−1): a level per group, the coefficients ordered [levels | x]."""
    if groups is None:
        groups, n_groups = np.zeros(len(y), dtype=np.int64), 0
    n, k = x.shape
    g = np.asarray(groups, dtype=np.int64)
    p = n_groups + k
    if n <= p:
        raise Unidentified(f"{n} observations for {p} parameters")
    sizes = np.bincount(g, minlength=n_groups) if n_groups else np.zeros(0)
    # the rank of [levels | x]: every level has rows, and x varies within the groups
    within = x - (_group_sums(g, x, n_groups) / sizes[:, None])[g] if n_groups else x
    if (n_groups and (sizes == 0).any()) or _rank(within, x) < k:
        raise Unidentified("the history does not vary enough to separate the effects")
    beta = np.full(p, np.inf)
    eta = np.log(y + 0.5)  # the usual start: each count as its own mean
    for _ in range(MAX_ITER):
        mu = np.exp(np.clip(eta, -30, 30))
        z = eta + (y - mu) / mu
        new = _step(x, g, n_groups, mu, mu * z)
        done = np.max(np.abs(new - beta)) < TOL
        beta = new
        eta = x @ beta[n_groups:] + (beta[g] if n_groups else 0.0)
        if done:
            break
    mu = np.exp(np.clip(eta, -30, 30))
    dispersion = max(float(((y - mu) ** 2 / mu).sum() / (n - p)), 1.0)
    cov = _inverse(x, g, n_groups, mu) * dispersion
    return Fit(coef=beta, se=np.sqrt(np.diag(cov)), dispersion=dispersion, n=n, mu=mu, cov=cov)


def _blocks(
    x: np.ndarray, g: np.ndarray, n_groups: int, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The weighted normal matrix's blocks: the levels' diagonal, levels × x, x × x."""
    wx = x * w[:, None]
    d = np.bincount(g, weights=w, minlength=n_groups) if n_groups else np.zeros(0)
    b = _group_sums(g, wx, n_groups) if n_groups else np.zeros((0, x.shape[1]))
    return d, b, np.einsum("ni,nj->ij", x, wx)


def _step(x: np.ndarray, g: np.ndarray, n_groups: int, w: np.ndarray, wz: np.ndarray) -> np.ndarray:
    """One reweighted least-squares solve of [levels | x] · β = z with weights ``w``."""
    d, b, c = _blocks(x, g, n_groups, w)
    r1 = np.bincount(g, weights=wz, minlength=n_groups) if n_groups else np.zeros(0)
    r2 = np.einsum("ni,n->i", x, wz)
    bd = b / d[:, None] if n_groups else b
    shared = np.linalg.solve(c - b.T @ bd, r2 - bd.T @ r1)
    levels = (r1 - b @ shared) / d if n_groups else np.zeros(0)
    return np.concatenate([levels, shared])


def _inverse(x: np.ndarray, g: np.ndarray, n_groups: int, w: np.ndarray) -> np.ndarray:
    """The inverse of the weighted normal matrix of [levels | x], by blocks."""
    d, b, c = _blocks(x, g, n_groups, w)
    if not n_groups:
        out: np.ndarray = np.linalg.inv(c)
        return out
    bd = b / d[:, None]
    shared = np.linalg.inv(c - b.T @ bd)
    cross = -bd @ shared
    top = np.diag(1 / d) - cross @ bd.T
    return np.block([[top, cross], [cross.T, shared]])
