"""Demand and spend: the channels' response to spend, seasonality, the first-visit price and its
elasticity, the busy hours — and the daily ad-spend rows."""

from __future__ import annotations

import datetime as dt
import math
from calendar import monthrange
from typing import Any

import numpy as np

from clinicflow.simulator.engine.staff import Staff
from clinicflow.simulator.engine.state import DAY_S, World


class Demand:
    def __init__(self, world: World, staff: Staff) -> None:
        self.w = world
        self.staff = staff
        scn, cal, st = world.scn, world.cal, world.st
        # daily demand weights
        wd = np.array(scn.season_weekday)[cal.weekday]
        self.day_weight = wd * np.where(cal.holiday, scn.holiday_factor, 1.0)
        # hours of contact (from the branch's open hour) and missed-call probability by hour
        hw = np.array(scn.contacts["hours"], dtype=np.float64)
        self.hour_p = hw / hw.sum()
        boost = scn.contacts["missed_peak_boost"]
        rel = (hw - hw.min()) / max(hw.max() - hw.min(), 1e-9)
        f = 1 + boost * rel
        f = f / (self.hour_p * f).sum()
        self.missed_p_hour = np.clip(scn.contacts["missed_share"] * f, 0, 0.95)
        # first-visit price per month, and the price multiplier of demand
        fvp = np.zeros(scn.months + 1, dtype=np.float64)
        for month, price in scn.price_schedule:
            if month <= scn.months:
                fvp[month:] = price
        self.fv_price = fvp * scn.price_factor
        base = scn.price_schedule[0][1] * scn.price_factor
        k = math.log1p(scn.calls_change_per_step) / (scn.elasticity_step * scn.price_factor)
        self.elastic_k = k
        self.price_mult = np.exp(-k * (self.fv_price - base))
        st.first_price_minor_by_month = np.round(self.fv_price * 100).astype(np.int64)
        # channel response: contacts = k·spend^returns, spend per month with jitter
        M, C = scn.months, len(scn.channels)
        jit = world.rng.uniform(-1, 1, size=(M, C)) * scn.spend_jitter
        trend = (1 + scn.spend_trend_per_year) ** (np.arange(M) / 12.0)
        self.spend = np.zeros((M, C), dtype=np.float64)
        self.ch_k = np.zeros(C)
        for c, ch in enumerate(scn.channels):
            s0 = ch.monthly_spend * scn.price_factor
            levels = np.full(M, s0)
            # [[changes]]: the channel's base spend moves from a month on (the curve stays the same)
            for change in sorted((x for x in scn.changes if x.kind == "spend" and x.index == c), key=_month):
                levels[change.month :] = change.value * scn.price_factor
            self.spend[:, c] = levels * (1 + jit[:, c]) * trend
            if ch.returns > 0:
                self.ch_k[c] = (s0 / (ch.cost_per_contact * scn.price_factor)) / s0**ch.returns
        self.demand_trend = (1 + scn.trend_per_year) ** (np.arange(M) / 12.0)
        bw = np.array([b.demand for b in scn.branches], dtype=np.float64)
        self.branch_share = bw / bw.sum()
        self.scale = 1.0
        if scn.patients > 0:
            self.scale = scn.patients / max(self.expected_booked(), 1e-9)

    def expected_patients(self) -> float:
        return self.expected_booked() * self.scale

    def base_contacts(self, m: int) -> np.ndarray:
        """Expected unique contacts per channel in month m, before price and branch split."""
        scn = self.w.scn
        out = np.zeros(len(scn.channels))
        for c, ch in enumerate(scn.channels):
            if ch.returns > 0:
                out[c] = self.ch_k[c] * self.spend[m, c] ** ch.returns
            else:
                out[c] = ch.contacts
        season = scn.season_monthly[self.w.cal.month_of_year[m]]
        frac = self.month_fraction(m)
        result: np.ndarray = out * season * self.demand_trend[m] * scn.demand_factor * frac
        return result

    def month_fraction(self, m: int) -> float:
        """The simulated share of month m (the last month may be partial)."""
        cal = self.w.cal
        a, b = cal.month_start[m], min(cal.month_start[m + 1], cal.n_days)
        n_in_month = cal.month_start[m + 1] - a
        if m == self.w.scn.months - 1:  # the last (partial) month
            first = dt.date.fromordinal(cal.start.toordinal() + int(a))
            n_in_month = monthrange(first.year, first.month)[1]
        return float(b - a) / float(n_in_month)

    def expected_booked(self) -> float:
        scn = self.w.scn
        handled = 1 - scn.contacts["call_share"] * scn.contacts["missed_share"] * (
            1 - scn.contacts["callback_done"] * scn.contacts["callback_recovery"]
        )
        w = np.array([a.weight for a in scn.administrators])
        conv = float((self.staff.adm_conv * w).sum() / w.sum())
        total = sum(self.base_contacts(m).sum() * self.price_mult[m] for m in range(scn.months))
        return float(total * handled * conv)

    def emit_spend(self, m: int) -> None:
        """Month m's ad spend per channel and branch, spread evenly over its days."""
        w = self.w
        scn, cal = w.scn, w.cal
        a, z = w.month_bounds(m)
        if z <= a:
            return
        frac = self.month_fraction(m)
        rows_c, rows_b, rows_d, rows_amt = [], [], [], []
        days = np.arange(a, z, dtype=np.int32)
        for c, _ch in enumerate(scn.channels):
            total = self.spend[m, c] * frac
            if total <= 0:
                continue
            for b in range(len(scn.branches)):
                amount = round(total * self.branch_share[b] * 100)
                per = np.full(days.size, amount // days.size, dtype=np.int64)
                per[-1] += amount - per.sum()
                rows_c.append(np.full(days.size, c, dtype=np.int16))
                rows_b.append(np.full(days.size, b, dtype=np.int16))
                rows_d.append(days)
                rows_amt.append(per)
                w.tally.spend_channel[c] += amount
        if not rows_c:
            return
        cc = np.concatenate(rows_c)
        bb = np.concatenate(rows_b)
        dd = np.concatenate(rows_d)
        w.emit(
            "spend",
            {
                "id": w.ids(cal.day_epoch[dd] * DAY_S),
                "channel": cc,
                "branch": bb,
                "campaign": w.st.campaign_of[bb, cc],
                "day": dd,
                "amount": np.concatenate(rows_amt),
            },
        )


def _month(change: Any) -> int:
    return int(change.month)
