"""The what-if prediction: month by month after the history, the planner's factors under a set of
levers, with 95% intervals from 400 draws of the calls model's coefficients, of the conversion, and
of the months' own noise (overdispersed calls, the older patients' revenue).

Which limit binds: ``capacity`` when doctors' booked minutes above the load ceiling cost visits,
else ``front_desk`` when fewer than half of the answered unique calls book, else ``demand``."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from clinicflow.analytics.pricing.levers import Lever
from clinicflow.analytics.pricing.whatif import DRAWS, LEVEL_MONTHS, LOAD_CEILING, PlanModel

FRONT_DESK_FLOOR = 0.5
CAPACITY_LOSS = 0.005
Q = (2.5, 97.5)


@dataclass
class Forecast:
    currency: str
    months: list[dict[str, Any]]
    totals: dict[str, Any]
    levers: dict[str, str]

    def as_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "levers": self.levers,
            "months": self.months,
            "totals": self.totals,
        }


def _next(m: dt.date, k: int = 1) -> dt.date:
    i = m.year * 12 + m.month - 1 + k
    return dt.date(i // 12, i % 12 + 1, 1)


def _money(x: float) -> str:
    return str(Decimal(str(round(float(x), 2))).quantize(Decimal("0.01")))


def _design(
    model: PlanModel, levers: list[Lever], future: list[dt.date]
) -> tuple[np.ndarray, np.ndarray, float]:
    """The calls model's columns past the series' levels (price, calendar, years, log spend per paid
    channel) for each future month and series, all series at once; a mask of series with no spend
    (no calls); the month's total ad spend."""
    cm = model.calls
    S, K = len(cm.series), len(cm.coef) - len(cm.series)
    ncal = len(cm.calendar(future[0]))
    price = {lv.key: float(lv.value) for lv in levers if lv.kind == "price"}
    spend = dict(model.spend)
    for lv in levers:
        if lv.kind != "spend" or lv.key is None:
            continue
        shares = {b: v for (b, c), v in model.spend.items() if c == lv.key}
        total = sum(shares.values())
        for b, v in shares.items():
            spend[(b, lv.key)] = float(lv.value) * (v / total if total else 1 / len(shares))
    paid = {c: k for k, c in enumerate(cm.paid_ids)}
    s_price = np.array([price.get(None, model.price.get(b, 0.0)) for b, _ in cm.series])
    s_paid = np.array([paid.get(c, -1) for _, c in cm.series], dtype=np.int64)
    s_spend = np.array([spend.get((b, c), 0.0) if c in paid else 1.0 for b, c in cm.series])
    base = cm.first_month.year * 12 + cm.first_month.month
    x = np.zeros((len(future), S, K))
    x[:, :, 0] = s_price
    x[:, :, 1 : 1 + ncal] = np.array([cm.calendar(m) for m in future])[:, None, :]
    x[:, :, 1 + ncal] = np.array([(m.year * 12 + m.month - base) / 12.0 for m in future])[:, None]
    on = (s_paid >= 0) & (s_spend > 0)
    x[:, np.flatnonzero(on), 2 + ncal + s_paid[on]] = np.log(s_spend[on])
    off = np.broadcast_to((s_paid >= 0) & (s_spend <= 0), (len(future), S))
    return x, off, float(sum(spend.values()))


def _conversion_multiplier(model: PlanModel, levers: list[Lever]) -> tuple[float, float]:
    """First visits relative to now after the administrators' levers; the booked share of answered
    unique calls after them."""
    new = {lv.key: float(lv.value) for lv in levers if lv.kind == "conversion"}
    admins = model.history.admins
    before = sum(a.answered * a.conversion for a in admins)
    after = sum(a.answered * new.get(a.id, a.conversion) for a in admins)
    answered = sum(a.answered for a in admins)
    mult = after / before if before > 0 else 1.0
    return mult, (after / answered if answered else 1.0)


def forecast(model: PlanModel, levers: list[Lever], months: int, *, seed: int = 0) -> Forecast:
    rng = np.random.default_rng(seed)
    future = [_next(model.last_month, k + 1) for k in range(months)]
    H, n = months, len(model.months)
    x, off, ad_spend = _design(model, levers, future)
    cm = model.calls
    S = len(cm.series)
    # the series' levels added to the shared columns' product (einsum loops: the BLAS thread pool
    # stalls on a shared machine)
    eta = cm.coef[:S][None, :] + np.einsum("hsk,k->hs", x, cm.coef[S:])
    calls = np.where(off, 0.0, np.exp(eta)).sum(axis=1)
    theta = model.draws_of(rng, seed)
    # a series' shared columns are its own (price, spend) plus the month's (calendar, years)
    own, month = x[0].copy(), x[:, 0, :].copy()
    ncal = len(cm.calendar(future[0]))
    own[:, 1 : 2 + ncal] = 0.0
    month[:, 0] = 0.0
    month[:, 2 + ncal :] = 0.0
    shared = theta[S:]
    eta_d = (theta[:S] + np.einsum("sk,kn->sn", own, shared))[None, :, :] + np.einsum(
        "hk,kn->hn", month, shared
    )[:, None, :]
    mu = np.where(off[..., None], 0.0, np.exp(np.clip(eta_d, -50, 50))).sum(axis=1)  # (H, N)
    calls_d = np.maximum(mu + np.sqrt(cm.dispersion * mu) * rng.standard_normal(mu.shape), 0)
    mult, booked_share = _conversion_multiplier(model, levers)
    conv_d = np.maximum(model.conversion + model.conversion_se * rng.standard_normal(DRAWS), 0)
    fv = calls * model.conversion * mult
    fv_d = calls_d * conv_d[None, :] * mult
    fv_d = np.maximum(
        fv_d + np.sqrt(cm.dispersion * np.maximum(fv_d, 0)) * rng.standard_normal(fv_d.shape), 0
    )
    # revenue: the history's cohorts, the new cohorts, the older patients
    price = next((float(lv.value) for lv in levers if lv.kind == "price"), None)
    if price is None:
        price = float(np.mean(list(model.price.values()))) if model.price else 0.0
    value = model.value.copy()
    value[0] = price + model.first_extra
    size = model.history.cohort_size
    top = len(model.value) - 1
    old = np.array([sum(size[c] * model.value[min(n + h - c, top)] for c in range(n)) for h in range(H)])
    conv = np.array([[value[h - k] if h >= k else 0.0 for k in range(H)] for h in range(H)])  # (H, H)
    first_rev = fv * value[0]
    rev = old + conv @ fv + model.older_level
    extra = _retention(model, levers, H, rev)
    rev = rev + extra
    # the months' own noise, and the uncertainty of the older patients' level (shared by the months)
    level_d = model.older_level + model.older_sd / math.sqrt(LEVEL_MONTHS) * rng.standard_normal(DRAWS)
    rev_d = old[:, None] + conv @ fv_d + level_d[None, :] + model.older_sd * rng.standard_normal((H, DRAWS))
    rev_d += extra[:, None]
    # capacity: booked minutes follow revenue; above the ceiling they are lost
    lost, load, rooms = _capacity(model, levers, rev)
    keep = 1 - lost
    fv, first_rev, rev = fv * keep, first_rev * keep, rev * keep
    fv_d, rev_d = fv_d * keep[:, None], rev_d * keep[:, None]
    margin = model.history.gross_margin
    rows = []
    for h, m in enumerate(future):
        limit = (
            "capacity"
            if lost[h] > CAPACITY_LOSS
            else ("front_desk" if booked_share < FRONT_DESK_FLOOR else "demand")
        )
        rows.append(
            {
                "month": m.strftime("%Y-%m"),
                "unique_calls": round(float(calls[h]), 1),
                "first_visits": round(float(fv[h]), 1),
                "revenue": _money(rev[h]),
                "revenue_first": _money(first_rev[h]),
                "revenue_repeat": _money(rev[h] - first_rev[h]),
                "gross_margin": _money(rev[h] * margin),
                "ad_spend": _money(ad_spend),
                "load": round(float(load[h]), 3),
                "load_by_room_type": {k: round(float(v[h]), 3) for k, v in rooms.items()},
                "binding_limit": limit,
                "low": _bounds(calls_d[h], fv_d[h], rev_d[h], 0),
                "high": _bounds(calls_d[h], fv_d[h], rev_d[h], 1),
            }
        )
    totals = {
        "unique_calls": round(float(calls.sum()), 1),
        "first_visits": round(float(fv.sum()), 1),
        "revenue": _money(rev.sum()),
        "revenue_first": _money(first_rev.sum()),
        "revenue_repeat": _money(rev.sum() - first_rev.sum()),
        "gross_margin": _money(rev.sum() * margin),
        "ad_spend": _money(ad_spend * H),
        "low": _bounds(calls_d.sum(0), fv_d.sum(0), rev_d.sum(0), 0),
        "high": _bounds(calls_d.sum(0), fv_d.sum(0), rev_d.sum(0), 1),
    }
    return Forecast(
        currency=model.currency,
        months=rows,
        totals=totals,
        levers={lv.name: str(lv.value) for lv in levers},
    )


def _retention(model: PlanModel, levers: list[Lever], horizon: int, rev: np.ndarray) -> np.ndarray:
    """Per month, the revenue the retention levers add (or take away) against the baseline: recall
    campaigns in proportion to reach × response; with the repeat rate, the share of the month's
    revenue (``rev``) that the history's last months gained when replayed under it."""
    out = np.zeros(horizon)
    r = model.recall
    reach = next((float(lv.value) for lv in levers if lv.kind == "reach"), r.reach)
    response = next((float(lv.value) for lv in levers if lv.kind == "response"), r.response)
    if (reach, response) != (r.reach, r.response):
        out += r.gain(reach, response, len(model.months), horizon)
    factor = next((float(lv.value) for lv in levers if lv.kind == "repeat"), 1.0)
    if factor != 1.0:
        out += model.repeat.ratio(factor, horizon) * rev
    return out


def _bounds(calls: np.ndarray, fv: np.ndarray, rev: np.ndarray, side: int) -> dict[str, Any]:
    q = Q[side]
    return {
        "unique_calls": round(float(np.percentile(calls, q)), 1),
        "first_visits": round(float(np.percentile(fv, q)), 1),
        "revenue": _money(float(np.percentile(rev, q))),
    }


def _capacity(
    model: PlanModel, levers: list[Lever], rev: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Per month: the share of visits lost to full doctors, the doctors' load, the load per room type."""
    cap = model.history.capacity
    recent = model.history.revenue[-3:]
    level = float(recent.mean()) if recent.size and recent.mean() > 0 else float(rev.mean() or 1)
    activity = rev / level
    share: dict[uuid.UUID | None, float] = {lv.key: float(lv.value) for lv in levers if lv.kind == "hours"}
    docs = list(cap.doctors.items())
    d_avail = np.array([a for _, (_, a, _) in docs])
    d_booked = np.array([b for _, (_, _, b) in docs])
    kept = np.array([share.get(pk, 1.0) for pk, _ in docs])
    avail_total = float((d_avail * kept).sum())
    ratio = np.divide(d_booked, d_avail, out=np.zeros_like(d_booked), where=d_avail != 0)
    ceiling = np.maximum(LOAD_CEILING, ratio) * d_avail * kept  # per doctor
    want = d_booked[None, :] * activity[:, None]  # (months, doctors)
    booked_total = want.sum(axis=1)
    over = np.maximum(0.0, want - ceiling[None, :]).sum(axis=1)
    done = np.minimum(want, ceiling[None, :]).sum(axis=1)
    lost = np.divide(over, booked_total, out=np.zeros_like(over), where=booked_total != 0)
    load = done / avail_total if avail_total else np.zeros(len(rev))
    rooms = {
        t: activity * (1 - lost) * booked / avail
        for t, (avail, booked) in sorted(cap.room_types.items())
        if avail
    }
    return lost, load, rooms
