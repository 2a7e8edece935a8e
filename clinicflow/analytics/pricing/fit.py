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
    moy = np.array([months[i].month for i in rows_month])
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


def _calls(panel: Panel, out: Elasticity, *, with_price: bool = True) -> None:
    called = {(b, c) for b, c, _ in panel.calls}
    series = [(b.pk, c.pk) for b in panel.branches for c in panel.channels if (b.pk, c.pk) in called]
    paid = {c for (_, c, _), v in panel.spend.items() if v > 0}
    paid_ids = [c.pk for c in panel.channels if c.pk in paid]
    rows: list[tuple[int, int, float, float, float]] = []  # series, month, price, log spend, y
    for s_i, (b, c) in enumerate(series):
        for m_i, m in enumerate(panel.months):
            price = panel.price.get((b, m))
            if price is None:
                continue
            spend = float(panel.spend.get((b, c, m), 0))
            if c in paid_ids and spend <= 0:
                continue  # no spend that month: no point on the curve
            log_spend = math.log(spend) if spend > 0 else 0.0
            rows.append((s_i, m_i, float(price), log_spend, panel.calls.get((b, c, m), 0)))
    if not rows:
        raise Unidentified("no unique calls in this history")
    arr = np.array(rows)
    si, mi = arr[:, 0].astype(int), arr[:, 1].astype(int)
    fe = np.zeros((len(rows), len(series)))
    fe[np.arange(len(rows)), si] = 1.0
    series_channel = np.array([paid_ids.index(c) if c in paid_ids else -1 for _, c in series])
    spend_cols = np.zeros((len(rows), len(paid_ids)))
    ch = series_channel[si]
    has = ch >= 0
    spend_cols[np.flatnonzero(has), ch[has]] = arr[has, 3]
    price_col: list[np.ndarray] = [arr[:, 2]] if with_price else []
    fit = poisson(
        np.column_stack([fe, *price_col, _season(panel.months, mi), mi / 12.0, spend_cols]), arr[:, 4]
    )
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
    _curves(panel, out, fit, paid_ids, len(fit.coef) - len(paid_ids), rows)
    totals: dict[int, list[float]] = {}
    for (_, m_, _, _, y), mu in zip(rows, fit.mu, strict=True):
        t = totals.setdefault(m_, [0.0, 0.0])
        t[0] += y
        t[1] += float(mu)
    out.fitted = [(panel.months[m_], int(t[0]), t[1]) for m_, t in sorted(totals.items())]


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
    rows: list[tuple[int, int, float, float, float]],
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
    rows: list[tuple[int, int, float, float, float]] = []  # branch, month, price, log spend, y
    spends: dict[tuple[uuid.UUID, dt.date], list[float]] = {}
    for (bb, _, mm), v in panel.spend.items():  # the branch's spends of the month, in the panel's order
        spends.setdefault((bb, mm), []).append(float(v))
    for b_i, branch in enumerate(panel.branches):
        for m_i, m in enumerate(panel.months):
            price = panel.price.get((branch.pk, m))
            if price is None:
                continue
            spend = sum(spends.get((branch.pk, m), []), 0.0)
            log_spend = math.log(spend) if spend > 0 else 0.0
            rows.append((b_i, m_i, float(price), log_spend, panel.first_visits.get((branch.pk, m), 0)))
    arr = np.array(rows)
    bi_, mi = arr[:, 0].astype(int), arr[:, 1].astype(int)
    fe = np.zeros((len(rows), len(panel.branches)))
    fe[np.arange(len(rows)), bi_] = 1.0
    x = np.column_stack([fe, arr[:, 2], _season(panel.months, mi), mi / 12.0, arr[:, 3]])
    fit = poisson(x, arr[:, 4])
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
