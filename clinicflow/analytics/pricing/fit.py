"""The fits: the first-visit price elasticity of unique calls and of first visits, and each paid
channel's response curve (contacts = k · spend^β), on one organisation's monthly history.

Unique calls per branch, channel and month are modelled as Poisson with
``log E[calls] = series + γ·price + season(month) + τ·years + β_channel·log(spend)`` — one level per
branch-and-channel series, the price effect γ shared (the price moves every channel's callers
alike), the calendar by month dummies once the history covers two years (two Fourier harmonics
before that), a growth trend, and diminishing returns to spend per paid channel. First visits per
branch and month follow the same form with the branch's total paid spend.

The elasticity is reported as the simulator plants it: the change of unique calls for a price cut
of one ``step`` (``exp(−γ·step) − 1``), with a 95% interval from γ's standard error."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.utils.translation import gettext

from clinicflow.analytics.pricing.glm import Fit, Unidentified, poisson
from clinicflow.analytics.pricing.panel import Panel

MIN_MONTHS = 6
MIN_PRICE_LEVELS = 2


@dataclass
class ChannelCurve:
    channel_id: uuid.UUID
    name: str
    beta: float
    beta_ci: tuple[float, float]
    monthly_spend: Decimal  # the last 3 months' mean, all branches
    monthly_calls: float  # fitted at that spend, all branches


@dataclass
class CallsModel:
    """The fitted unique-calls model, kept for prediction (the what-if planner): ``coef`` over the
    columns [series levels | price | calendar | years | log spend per paid channel]."""

    series: list[tuple[uuid.UUID, uuid.UUID]]  # (branch id, channel id)
    paid_ids: list[uuid.UUID]
    coef: np.ndarray
    cov: np.ndarray
    dispersion: float
    dummies: bool  # calendar as month dummies (else two harmonics)
    first_month: dt.date

    def calendar(self, month: dt.date) -> np.ndarray:
        out: np.ndarray = _calendar(np.array([month.month]), self.dummies)[0]
        return out


@dataclass
class Elasticity:
    """``calls_change`` and ``first_visits_change``: the share more for a price cut of ``step``."""

    step: Decimal
    currency: str
    months: int
    price_levels: list[Decimal]
    calls_change: float | None = None
    calls_ci: tuple[float, float] | None = None
    first_visits_change: float | None = None
    first_visits_ci: tuple[float, float] | None = None
    curves: list[ChannelCurve] = field(default_factory=list)
    fitted: list[tuple[dt.date, int, float]] = field(default_factory=list)  # month, calls, fitted
    warning: str = ""
    calls_model: CallsModel | None = None

    @property
    def estimated(self) -> bool:
        return self.calls_change is not None


def _season(months: list[dt.date], rows_month: np.ndarray) -> np.ndarray:
    """Calendar columns for each row's month index: dummies (Feb..Dec) with two years of history,
    else two harmonics of the year."""
    moy = np.array([m.month for m in months], dtype=np.int64)[rows_month]
    return _calendar(moy, len(months) >= 24)


def _calendar(moy: np.ndarray, dummies: bool) -> np.ndarray:
    if dummies:
        return np.stack([(moy == k).astype(float) for k in range(2, 13)], axis=1)
    angle = 2 * math.pi * (moy - 1) / 12
    return np.stack([np.sin(angle), np.cos(angle), np.sin(2 * angle), np.cos(2 * angle)], axis=1)


def _change(coef: float, se: float, step: float) -> tuple[float, tuple[float, float]]:
    lo, hi = coef - 1.96 * se, coef + 1.96 * se
    return math.expm1(-coef * step), (math.expm1(-hi * step), math.expm1(-lo * step))


def default_step(levels: list[Decimal]) -> Decimal:
    """A fifth of the middle price, to a round figure (e.g. 500 for 2,500)."""
    mid = float(sorted(levels)[len(levels) // 2]) if levels else 0.0
    if mid <= 0:
        return Decimal(1)
    raw = mid / 5
    unit = 10 ** math.floor(math.log10(raw))
    return Decimal(round(raw / unit) * unit)


def estimate(panel: Panel, step: Decimal | None = None) -> Elasticity:
    levels = sorted(set(panel.price.values()))
    out = Elasticity(
        step=step or default_step(levels),
        currency=panel.currency,
        months=len(panel.months),
        price_levels=levels,
    )
    if len(panel.months) < MIN_MONTHS:
        out.warning = gettext("at least %(n)s whole months of history are needed") % {"n": MIN_MONTHS}
        return out
    if len(levels) < MIN_PRICE_LEVELS:
        out.warning = gettext(
            "the first-visit price never changed in this history: its effect cannot be estimated"
        )
        # the channels' curves (and the planner's calls model) still, the price's effect held at 0
        with contextlib.suppress(Unidentified):
            _calls(panel, out, with_price=False)
        return out
    try:
        _calls(panel, out)
        _first_visits(panel, out)
    except Unidentified as exc:
        out.warning = str(exc)
        out.calls_change = out.first_visits_change = None
    return out


@dataclass
class _Cube:
    """The panel's dictionaries as arrays over (branch, channel, month) indexes in the panel's order:
    read once per fit instead of a dictionary look-up per series and month."""

    calls: np.ndarray  # branch, channel, month
    calls_seen: np.ndarray  # branch, channel: any calls
    spend: np.ndarray  # branch, channel, month
    paid: np.ndarray  # channel: any positive spend
    branch_spend: np.ndarray  # branch, month: the channels' spend summed in the panel's order
    price: np.ndarray  # branch, month (NaN: no price)
    first_visits: np.ndarray  # branch, month


def _cube(panel: Panel) -> _Cube:
    bi = {b.pk: i for i, b in enumerate(panel.branches)}
    ci = {c.pk: i for i, c in enumerate(panel.channels)}
    mi = {m: i for i, m in enumerate(panel.months)}
    B, C, M = len(bi), len(ci), len(mi)
    calls, spend = np.zeros((B, C, M)), np.zeros((B, C, M))
    seen, paid = np.zeros((B, C), dtype=bool), np.zeros(C, dtype=bool)
    branch_spend = np.zeros((B, M))
    price, visits = np.full((B, M), np.nan), np.zeros((B, M))
    for (b, c, m), n in panel.calls.items():
        if b in bi and c in ci:
            seen[bi[b], ci[c]] = True
            if m in mi:
                calls[bi[b], ci[c], mi[m]] = n
    for (b, c, m), v in panel.spend.items():
        if v > 0 and c in ci:
            paid[ci[c]] = True
        if b in bi and m in mi:
            branch_spend[bi[b], mi[m]] += float(v)  # in the dictionary's order, as summed before
            if c in ci:
                spend[bi[b], ci[c], mi[m]] = float(v)
    for (b, m), p in panel.price.items():
        if b in bi and m in mi:
            price[bi[b], mi[m]] = float(p)
    for (b, m), n in panel.first_visits.items():
        if b in bi and m in mi:
            visits[bi[b], mi[m]] = n
    return _Cube(calls, seen, spend, paid, branch_spend, price, visits)


def _calls(panel: Panel, out: Elasticity, *, with_price: bool = True) -> None:
    cube = _cube(panel)
    bi = {b.pk: i for i, b in enumerate(panel.branches)}
    ci = {c.pk: i for i, c in enumerate(panel.channels)}
    called = cube.calls_seen
    series = [(b.pk, c.pk) for b in panel.branches for c in panel.channels if called[bi[b.pk], ci[c.pk]]]
    paid_ids = [c.pk for c in panel.channels if cube.paid[ci[c.pk]]]
    # every series × month at once (series-major, as the rows were appended one by one)
    S, M = len(series), len(panel.months)
    s_b = np.array([bi[b] for b, _ in series], dtype=np.int64)
    s_c = np.array([ci[c] for _, c in series], dtype=np.int64)
    price = cube.price[s_b].reshape(S, M)
    spend = cube.spend[s_b, s_c].reshape(S, M)
    calls = cube.calls[s_b, s_c].reshape(S, M)
    series_channel = np.array([paid_ids.index(c) if c in paid_ids else -1 for _, c in series], dtype=np.int64)
    # no price that month: no row; a paid channel without spend that month: no point on the curve
    keep = ~np.isnan(price) & ~((series_channel[:, None] >= 0) & (spend <= 0))
    si, mi = np.nonzero(keep)
    if not si.size:
        raise Unidentified("no unique calls in this history")
    log_spend = np.log(np.where(spend[si, mi] > 0, spend[si, mi], 1.0))
    spend_cols = np.zeros((si.size, len(paid_ids)))
    ch = series_channel[si]
    has = ch >= 0
    spend_cols[np.flatnonzero(has), ch[has]] = log_spend[has]
    price_col: list[np.ndarray] = [price[si, mi]] if with_price else []
    y = calls[si, mi]
    x = np.column_stack([*price_col, _season(panel.months, mi), mi / 12.0, spend_cols])
    fit = poisson(x, y, si, S)
    gi = len(series)
    if with_price:
        out.calls_change, out.calls_ci = _change(fit.coef[gi], fit.se[gi], float(out.step))
    else:
        fit = _price_held(fit, gi)
    out.calls_model = CallsModel(
        series=series,
        paid_ids=paid_ids,
        coef=fit.coef,
        cov=fit.cov,
        dispersion=fit.dispersion,
        dummies=len(panel.months) >= 24,
        first_month=panel.months[0],
    )
    _curves(panel, out, fit, paid_ids, len(fit.coef) - len(paid_ids))
    observed = np.bincount(mi, weights=y, minlength=M)
    fitted = np.bincount(mi, weights=fit.mu, minlength=M)
    out.fitted = [(panel.months[m], int(observed[m]), float(fitted[m])) for m in np.unique(mi)]


def _price_held(fit: Fit, at: int) -> Fit:
    """The fit with the price's coefficient inserted at ``at`` as exactly 0 (no variance)."""
    cov = np.insert(np.insert(fit.cov, at, 0.0, axis=0), at, 0.0, axis=1)
    return Fit(
        coef=np.insert(fit.coef, at, 0.0),
        se=np.insert(fit.se, at, 0.0),
        dispersion=fit.dispersion,
        n=fit.n,
        mu=fit.mu,
        cov=cov,
    )


def _curves(
    panel: Panel,
    out: Elasticity,
    fit: Fit,
    paid_ids: list[uuid.UUID],
    first: int,
) -> None:
    recent = panel.months[-3:]
    names = {c.pk: c.display_name if hasattr(c, "display_name") else c.name for c in panel.channels}
    for k, cid in enumerate(paid_ids):
        spend = [panel.spend.get((b.pk, cid, m), Decimal(0)) for b in panel.branches for m in recent]
        calls = [panel.calls.get((b.pk, cid, m), 0) for b in panel.branches for m in recent]
        out.curves.append(
            ChannelCurve(
                channel_id=cid,
                name=str(names[cid]),
                beta=float(fit.coef[first + k]),
                beta_ci=fit.ci(first + k),
                monthly_spend=(sum(spend, Decimal(0)) / len(recent)).quantize(Decimal("0.01")),
                monthly_calls=sum(calls) / len(recent),
            )
        )


def _first_visits(panel: Panel, out: Elasticity) -> None:
    cube = _cube(panel)
    B = len(panel.branches)
    price, spend, visits = cube.price, cube.branch_spend, cube.first_visits
    bi_, mi = np.nonzero(~np.isnan(price))
    log_spend = np.log(np.where(spend[bi_, mi] > 0, spend[bi_, mi], 1.0))
    x = np.column_stack([price[bi_, mi], _season(panel.months, mi), mi / 12.0, log_spend])
    fit = poisson(x, visits[bi_, mi], bi_, B)
    gi = len(panel.branches)
    out.first_visits_change, out.first_visits_ci = _change(fit.coef[gi], fit.se[gi], float(out.step))


def best_split(curves: list[ChannelCurve], total: Decimal) -> dict[uuid.UUID, Decimal]:
    """The split of a monthly budget that brings the most calls: each channel's calls at spend s are
    ``calls₀ · (s / s₀)^β``; at the optimum the marginal calls per unit of spend are equal (solved for
    the common margin by bisection)."""
    usable = [c for c in curves if 0 < c.beta < 1 and c.monthly_spend > 0 and c.monthly_calls > 0]
    if not usable or total <= 0:
        return {}
    budget = float(total)

    def spend_at(margin: float) -> list[float]:
        out = []
        for c in usable:
            s0, y0 = float(c.monthly_spend), c.monthly_calls
            # d/ds y0 (s/s0)^β = β y0 s^(β-1) / s0^β = margin
            out.append((margin * s0**c.beta / (c.beta * y0)) ** (1 / (c.beta - 1)))
        return out

    lo, hi = 1e-12, 1e6
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        if sum(spend_at(mid)) > budget:
            lo = mid
        else:
            hi = mid
    spends = spend_at(math.sqrt(lo * hi))
    scale = budget / sum(spends)
    return {
        c.channel_id: Decimal(s * scale).quantize(Decimal("0.01"))
        for c, s in zip(usable, spends, strict=True)
    }
