"""The simulation: month by month, vectorised with numpy, pure (no Django).

``Simulation(scenario, seed).run(sink)`` calls ``sink(table, columns)`` with column dicts of numpy
arrays (or lists of strings) for each generated chunk, in a fixed order, so the same seed and
scenario give the same rows. Static structure (services, rooms, doctors, …) is in
``Simulation.structure``; the planted and realised figures are collected in ``Simulation.tally``
and turned into the truth document by :mod:`clinicflow.simulator.truth`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from clinicflow.simulator.engine.calendar import build_calendar
from clinicflow.simulator.engine.ids import uuid7_array
from clinicflow.simulator.engine.people import NAMES, PhoneSpace
from clinicflow.simulator.engine.setup import (
    KIND_COURSE,
    KIND_FIRST,
    KIND_FOLLOW,
    ST_BOOKED,
    ST_CANCELLED,
    ST_CONFIRMED,
    ST_DONE,
    ST_NO_SHOW,
    build_structure,
)
from clinicflow.simulator.scenario import MEMBERSHIP_KINDS, PAYMENT_METHODS, Scenario

Columns = dict[str, Any]
Sink = Callable[[str, Columns], None]
DAY_S = 86_400
REQ_FIELDS = {
    "patient": np.int64,
    "doctor": np.int16,
    "service": np.int16,
    "kind": np.int8,
    "sess": np.int16,
    "n_sess": np.int16,
    "ot_left": np.int16,
    "episode": np.int16,
    "day": np.int32,
    "created": np.int64,
    "recall": np.int64,
    "resched": np.int8,
}
PAT_FIELDS = {
    "branch": np.int16,
    "channel": np.int16,
    "first_doctor": np.int16,
    "expectation": np.float32,
    "last_visit": np.int32,
    "pending": np.bool_,
    "consent": np.bool_,
    "in_points": np.bool_,
    "points": np.int64,
    "first_done": np.int32,
    "revenue": np.int64,
    "done_visits": np.int32,
    "treated": np.bool_,
}


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if len(parts) == 1:
        return parts[0]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _take(d: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v[mask] for k, v in d.items()}


class Patients:
    """Growable per-patient state (index = patient number in this run)."""

    def __init__(self, capacity: int = 4096) -> None:
        self.n = 0
        self.ids = np.zeros((capacity, 16), dtype=np.uint8)
        self.cols: dict[str, np.ndarray] = {k: np.zeros(capacity, dtype=t) for k, t in PAT_FIELDS.items()}

    def add(self, ids: np.ndarray, **values: np.ndarray) -> np.ndarray:
        k = ids.shape[0]
        if self.n + k > self.ids.shape[0]:
            cap = max(self.n + k, 2 * self.ids.shape[0])
            ids_new = np.zeros((cap, 16), dtype=np.uint8)
            ids_new[: self.n] = self.ids[: self.n]
            self.ids = ids_new
            for name, arr in self.cols.items():
                grown = np.zeros(cap, dtype=arr.dtype)
                grown[: self.n] = arr[: self.n]
                self.cols[name] = grown
        idx = np.arange(self.n, self.n + k, dtype=np.int64)
        self.ids[idx] = ids
        for name in self.cols:
            self.cols[name][idx] = values.get(
                name, -1 if name in ("first_doctor", "last_visit", "first_done") else 0
            )
        self.n += k
        return idx

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]


class Tally:
    """Counters for the realised side of the truth."""

    def __init__(self, scn: Scenario, n_months: int) -> None:
        n_a, n_d, n_c, n_b = len(scn.administrators), len(scn.doctors), len(scn.channels), len(scn.branches)
        self.adm_unique_handled = np.zeros(n_a, dtype=np.int64)
        self.adm_unique_booked = np.zeros(n_a, dtype=np.int64)
        self.adm_score_sum = np.zeros(n_a, dtype=np.float64)
        self.adm_score_n = np.zeros(n_a, dtype=np.int64)
        self.calls_total = 0
        self.calls_unique = 0
        self.calls_missed = 0
        self.calls_recovered = 0
        self.unique_missed = 0
        self.web_forms = 0
        self.sessions = 0
        self.contacts_month = np.zeros(n_months, dtype=np.float64)  # unique non-referral contacts
        self.expected_no_price_month = np.zeros(n_months, dtype=np.float64)
        self.price_month = np.zeros(n_months, dtype=np.float64)
        self.spend_channel = np.zeros(n_c, dtype=np.int64)  # minor units
        self.contacts_channel = np.zeros(n_c, dtype=np.int64)
        self.booked_channel = np.zeros(n_c, dtype=np.int64)
        self.first_patients_channel = np.zeros(n_c, dtype=np.int64)
        self.appt_status = np.zeros((2, 6), dtype=np.int64)  # [is_first][status]
        self.consults = np.zeros(n_d, dtype=np.int64)
        self.converted = np.zeros(n_d, dtype=np.int64)
        self.episode_ends = np.zeros(n_d, dtype=np.int64)
        self.episode_returns = np.zeros(n_d, dtype=np.int64)
        self.course_planned = np.zeros(n_d, dtype=np.int64)
        self.course_sessions_possible = np.zeros(n_d, dtype=np.int64)
        self.episodes = np.zeros(n_d, dtype=np.int64)
        self.extra_services = np.zeros(n_d, dtype=np.int64)
        self.nps_answers: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.expectations = np.zeros(n_d, dtype=np.float64)
        self.complications = 0
        self.treatment_visits = 0
        self.followups_done = 0
        self.followups = 0
        self.recall_contacted = 0
        self.revenue_branch = np.zeros(n_b, dtype=np.int64)
        self.first_visit_revenue = 0
        self.repeat_revenue = 0
        self.memberships = np.zeros(len(MEMBERSHIP_KINDS), dtype=np.int64)
        self.points_earned = 0
        self.points_redeemed = 0
        self.referral_contacts = 0
        self.referral_patients = 0
        self.capacity_dropped = 0
        self.rows: dict[str, int] = defaultdict(int)


class Simulation:
    def __init__(self, scn: Scenario, seed: int, *, horizon_days: int = 30, id_salt: int = 0) -> None:
        """``id_salt`` (e.g. a hash of the organisation's slug) makes the ids of one seed differ
        between organisations — ids are global primary keys — without changing the data."""
        self.scn = scn
        self.seed = seed
        ss = np.random.SeedSequence(seed)
        s_model, s_ids, s_setup = ss.spawn(3)
        self.rng = np.random.Generator(np.random.PCG64(s_model))
        self.id_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, id_salt, 7])))
        del s_ids
        setup_rng = np.random.Generator(np.random.PCG64(s_setup))
        self.cal = build_calendar(scn, horizon_days)
        self.phones = PhoneSpace(scn.country, setup_rng)
        self.st = build_structure(scn, setup_rng, self.phones)
        self.tally = Tally(scn, scn.months)
        self.pat = Patients()
        self._init_arrays()
        ms = int(self.cal.day_epoch[0]) * DAY_S
        st = self.st
        self.setup_ids = {
            "service": self._ids(np.full(len(scn.services), ms)),
            "room": self._ids(np.full(len(st.room_branch), ms)),
            "doctor": self._ids(np.full(len(scn.doctors), ms)),
            "channel": self._ids(np.full(len(scn.channels), ms)),
            "campaign": self._ids(np.full(len(st.campaign_branch), ms)),
            "number": self._ids(np.full(len(st.number_branch), ms)),
        }

    # ------------------------------------------------------------------ setup
    def _init_arrays(self) -> None:
        scn, cal, st = self.scn, self.cal, self.st
        T = cal.total_days
        D = len(scn.doctors)
        # doctors' working days and free minutes
        works = st.doc_weekdays[:, cal.weekday]  # (D, T)
        self.day_len = (st.doc_end_min - st.doc_start_min).astype(np.int32)
        nxt = np.full((D, T + 1), T, dtype=np.int32)
        idx = np.arange(T, dtype=np.int32)
        for d in range(D):
            v = np.where(works[d], idx, T)
            nxt[d, :T] = np.minimum.accumulate(v[::-1])[::-1]
        self.next_work = nxt
        self.used = np.zeros((D, T), dtype=np.int32)
        self.doc_a = {
            "conversion": np.array([d.conversion for d in scn.doctors]),
            "over_promise": np.array([d.over_promise for d in scn.doctors]),
            "quality": np.array([d.quality for d in scn.doctors]),
            "completion": np.array([d.course_completion for d in scn.doctors]),
            "repeat": np.array([d.repeat_rate for d in scn.doctors]),
            "over_treatment": np.array([d.over_treatment for d in scn.doctors]),
        }
        self.adm_conv = np.array([a.conversion for a in scn.administrators])
        self.adm_quality = np.array([a.quality for a in scn.administrators])
        B = len(scn.branches)
        self.branch_docs = [np.flatnonzero(st.doc_branch == b) for b in range(B)]
        self.branch_doc_p = []
        for b in range(B):
            w = np.array([scn.doctors[d].weight for d in self.branch_docs[b]], dtype=np.float64)
            self.branch_doc_p.append(w / w.sum() if w.sum() > 0 else np.full(len(w), 1 / len(w)))
        self.branch_adms = [np.flatnonzero(st.adm_branch == b) for b in range(B)]
        self.branch_adm_p = []
        for b in range(B):
            w = np.array([scn.administrators[a].weight for a in self.branch_adms[b]], dtype=np.float64)
            self.branch_adm_p.append(w / w.sum() if w.sum() > 0 else np.full(len(w), 1 / len(w)))
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
        jit = self.rng.uniform(-1, 1, size=(M, C)) * scn.spend_jitter
        trend = (1 + scn.spend_trend_per_year) ** (np.arange(M) / 12.0)
        self.spend = np.zeros((M, C), dtype=np.float64)
        self.ch_k = np.zeros(C)
        for c, ch in enumerate(scn.channels):
            s0 = ch.monthly_spend * scn.price_factor
            self.spend[:, c] = s0 * (1 + jit[:, c]) * trend
            if ch.returns > 0:
                self.ch_k[c] = (s0 / (ch.cost_per_contact * scn.price_factor)) / s0**ch.returns
        self.demand_trend = (1 + scn.trend_per_year) ** (np.arange(M) / 12.0)
        bw = np.array([b.demand for b in scn.branches], dtype=np.float64)
        self.branch_share = bw / bw.sum()
        self.scale = 1.0
        if scn.patients > 0:
            self.scale = scn.patients / max(self._expected_booked(), 1e-9)
        self.pending: dict[int, list[dict[str, np.ndarray]]] = defaultdict(list)
        self.referrals: dict[int, list[dict[str, np.ndarray]]] = defaultdict(list)
        self.recall_rows: list[dict[str, np.ndarray]] = []
        self.recall_day = np.zeros(0, dtype=np.int32)
        self.recall_returned = np.zeros(0, dtype=np.int32)
        self.n_recall = 0

    def expected_patients(self) -> float:
        return self._expected_booked() * self.scale

    def _base_contacts(self, m: int) -> np.ndarray:
        """Expected unique contacts per channel in month m, before price and branch split."""
        scn = self.scn
        out = np.zeros(len(scn.channels))
        for c, ch in enumerate(scn.channels):
            if ch.returns > 0:
                out[c] = self.ch_k[c] * self.spend[m, c] ** ch.returns
            else:
                out[c] = ch.contacts
        season = scn.season_monthly[self.cal.month_of_year[m]]
        frac = self._month_fraction(m)
        return out * season * self.demand_trend[m] * scn.demand_factor * frac

    def _month_fraction(self, m: int) -> float:
        cal = self.cal
        a, b = cal.month_start[m], min(cal.month_start[m + 1], cal.n_days)
        n_in_month = cal.month_start[m + 1] - a
        if m == self.scn.months - 1:  # the last (partial) month
            from calendar import monthrange

            d0 = cal.start.toordinal() + int(a)
            import datetime as _dt

            first = _dt.date.fromordinal(d0)
            n_in_month = monthrange(first.year, first.month)[1]
        return float(b - a) / float(n_in_month)

    def _expected_booked(self) -> float:
        scn = self.scn
        handled = 1 - scn.contacts["call_share"] * scn.contacts["missed_share"] * (
            1 - scn.contacts["callback_done"] * scn.contacts["callback_recovery"]
        )
        w = np.array([a.weight for a in scn.administrators])
        conv = float((self.adm_conv * w).sum() / w.sum())
        total = sum(self._base_contacts(m).sum() * self.price_mult[m] for m in range(scn.months))
        return total * handled * conv

    # ------------------------------------------------------------------ helpers
    def _ids(self, seconds: np.ndarray) -> np.ndarray:
        return uuid7_array(self.id_rng, np.asarray(seconds, dtype=np.int64) * 1000)

    def _day_seconds(self, branch: np.ndarray, day: np.ndarray) -> np.ndarray:
        """UTC seconds of local midnight of ``day`` at ``branch``."""
        cal = self.cal
        return cal.day_epoch[day] * DAY_S - cal.utc_offset_min[branch, day].astype(np.int64) * 60

    def _emit(self, sink: Sink, table: str, cols: Columns) -> None:
        n = len(next(iter(cols.values())))
        if n == 0:
            return
        self.tally.rows[table] += n
        sink(table, cols)

    def _request(self, n: int, **values: np.ndarray | int) -> dict[str, np.ndarray]:
        out = {}
        for k, t in REQ_FIELDS.items():
            v = values.get(k, -1 if k == "recall" else 0)
            out[k] = np.broadcast_to(np.asarray(v, dtype=t), (n,)).copy()
        return out

    def _queue(self, req: dict[str, np.ndarray]) -> None:
        if req["day"].size == 0:
            return
        cal = self.cal
        keep = req["day"] < cal.total_days
        self.tally.capacity_dropped += 0
        req = _take(req, keep)
        if req["day"].size == 0:
            return
        self.pat["pending"][req["patient"]] = True
        months = cal.month_of_day[req["day"]]
        for m in np.unique(months):
            self.pending[int(m)].append(_take(req, months == m))

    # ------------------------------------------------------------------ run
    def run(self, sink: Sink, progress: Callable[[str, int], None] | None = None) -> Tally:
        scn = self.scn
        self._emit_setup(sink)
        for m in range(scn.months):
            self._recall(m)
            self._contacts(m, sink)
            self._spend(m, sink)
            self._appointments(m, sink, future=False)
            if progress:
                progress(f"month {m + 1}/{scn.months}", sum(self.tally.rows.values()))
        self._appointments(scn.months, sink, future=True)
        self._emit_recall(sink)
        if progress:
            progress("done", sum(self.tally.rows.values()))
        return self.tally

    def _emit_setup(self, sink: Sink) -> None:
        scn = self.scn
        price_rows = [(month, price) for month, price in scn.price_schedule if month < scn.months]
        days = np.array([self.cal.month_start[m] for m, _ in price_rows], dtype=np.int32)
        self._emit(
            sink,
            "first_visit_prices",
            {
                "id": self._ids(self.cal.day_epoch[days] * DAY_S),
                "day": days,
                "price": np.round(np.array([p for _, p in price_rows]) * scn.price_factor * 100).astype(
                    np.int64
                ),
            },
        )

    # ------------------------------------------------------------------ recall campaigns
    def _recall(self, m: int) -> None:
        scn, cal, rng, pat = self.scn, self.cal, self.rng, self.pat
        every = int(scn.recall["every_months"])
        if m == 0 or m % every != 0 or pat.n == 0:
            return
        t0 = int(cal.month_start[m])
        lv = pat["last_visit"][: pat.n]
        lapsed = (
            (lv >= 0)
            & (lv <= t0 - scn.recall["lapsed_days"])
            & ~pat["pending"][: pat.n]
            & pat["consent"][: pat.n]
        )
        cand = np.flatnonzero(lapsed)
        cand = cand[rng.random(cand.size) < scn.recall["contact_share"]]
        n = cand.size
        if n == 0:
            return
        u = rng.random(n)
        week = u < scn.recall["return_week"]
        later = ~week & (u < scn.recall["return_week"] + scn.recall["return_two_months"])
        offset = np.where(week, rng.integers(1, 7, n), rng.integers(8, 60, n))
        b = pat["branch"][cand]
        contact_day = np.full(n, t0, dtype=np.int32) + rng.integers(0, 3, n).astype(np.int32)
        at = self._day_seconds(b, contact_day) + rng.integers(10 * 3600, 18 * 3600, n)
        rec_idx = np.arange(self.n_recall, self.n_recall + n, dtype=np.int64)
        self.n_recall += n
        self.recall_rows.append(
            {
                "id": self._ids(at),
                "patient": cand,
                "campaign_month": np.full(n, m, dtype=np.int32),
                "at": at,
                "day": contact_day,
            }
        )
        self.recall_day = np.concatenate([self.recall_day, contact_day])
        self.recall_returned = np.concatenate([self.recall_returned, np.full(n, -1, dtype=np.int32)])
        self.tally.recall_contacted += n
        ret = week | later
        r = cand[ret]
        if r.size:
            docs = pat["first_doctor"][r]
            req = self._new_episode(r, docs, contact_day[ret] + offset[ret].astype(np.int32), at[ret])
            req["recall"] = rec_idx[ret]
            self._queue(req)

    def _new_episode(
        self,
        patients: np.ndarray,
        docs: np.ndarray,
        day: np.ndarray,
        created: np.ndarray,
        episode: np.ndarray | int = 1,
    ) -> dict[str, np.ndarray]:
        rng, st = self.rng, self.st
        n = patients.size
        svc = np.zeros(n, dtype=np.int16)
        for d in np.unique(docs):
            sel = docs == d
            svc[sel] = rng.choice(st.doc_services[d], size=int(sel.sum()), p=st.doc_service_p[d])
        course = st.svc_course[svc].astype(np.int64)
        comp = self.doc_a["completion"][docs]
        # sessions actually planned: 1 + consecutive continuations (each with p = completion)
        extra = np.minimum(rng.geometric(1 - np.clip(comp, 0, 0.999)) - 1, course - 1)
        n_sess = 1 + extra
        ot = rng.poisson(self.doc_a["over_treatment"][docs])
        t = self.tally
        np.add.at(t.episodes, docs, 1)
        np.add.at(t.course_planned, docs, n_sess)
        np.add.at(t.course_sessions_possible, docs, course)
        np.add.at(t.extra_services, docs, ot)
        return self._request(
            n,
            patient=patients,
            doctor=docs,
            service=svc,
            kind=KIND_COURSE,
            sess=1,
            n_sess=n_sess,
            ot_left=ot,
            episode=episode,
            day=day,
            created=created,
        )

    # ------------------------------------------------------------------ contacts, calls, patients
    def _contacts(self, m: int, sink: Sink) -> None:
        scn, cal, rng, st, t = self.scn, self.cal, self.rng, self.st, self.tally
        B, C = len(scn.branches), len(scn.channels)
        a, z = int(cal.month_start[m]), int(min(cal.month_start[m + 1], cal.n_days))
        if z <= a:
            return
        base = self._base_contacts(m) * self.scale
        lam = np.outer(self.branch_share, base * self.price_mult[m])  # (B, C)
        counts = rng.poisson(lam)
        t.expected_no_price_month[m] = base[[c for c in range(C) if st.ch_kind[c] != "referral"]].sum()
        t.price_month[m] = self.fv_price[m]
        br = np.repeat(np.repeat(np.arange(B), C), counts.ravel()).astype(np.int16)
        ch = np.repeat(np.tile(np.arange(C), B), counts.ravel()).astype(np.int16)
        n = br.size
        dw = self.day_weight[a:z]
        day = (a + rng.choice(z - a, size=n, p=dw / dw.sum())).astype(np.int32)
        referrer = np.full(n, -1, dtype=np.int64)
        # referrals brought by promoters
        ref_parts = self.referrals.pop(m, [])
        if ref_parts:
            ref = _concat(ref_parts)
            rday = np.clip(ref["day"], a, z - 1).astype(np.int32)
            k = rday.size
            br = np.concatenate([br, self.pat["branch"][ref["referrer"]]])
            ch = np.concatenate([ch, np.full(k, self.ref_channel, dtype=np.int16)])
            day = np.concatenate([day, rday])
            referrer = np.concatenate([referrer, ref["referrer"]])
            t.referral_contacts += k
        n = br.size
        if n == 0:
            return
        t.contacts_month[m] += float((referrer < 0).sum())
        np.add.at(t.contacts_channel, ch, 1)
        open_h = np.array([b.open_hour for b in scn.branches])[br]
        close_h = np.array([b.close_hour for b in scn.branches])[br]
        hour_i = rng.choice(self.hour_p.size, size=n, p=self.hour_p)
        hour = np.minimum(open_h + hour_i, close_h - 1)
        at = self._day_seconds(br, day) + hour * 3600 + rng.integers(0, 3600, n)
        order = np.lexsort((at,))
        br, ch, day = br[order], ch[order], day[order]
        referrer, hour_i, at = referrer[order], hour_i[order], at[order]
        web_ch = np.array([c.web for c in scn.channels])[ch]
        kind_offline = np.array([k == "offline" for k in st.ch_kind])[ch]
        is_call = (rng.random(n) < scn.contacts["call_share"]) | kind_offline | (referrer >= 0)
        phone_v = self.phones.take(n)
        # who answers: an administrator of the branch on duty
        adm = np.zeros(n, dtype=np.int16)
        for b in range(B):
            sel = br == b
            adm[sel] = rng.choice(self.branch_adms[b], size=int(sel.sum()), p=self.branch_adm_p[b])
        # missed calls: more in the busy hours and on a branch's busy days
        per_day = np.zeros((B, z - a), dtype=np.float64)
        np.add.at(per_day, (br, day - a), 1.0)
        mean_day = np.maximum(per_day.mean(axis=1, keepdims=True), 1e-9)
        load = np.clip(per_day / mean_day, 0.5, 2.0)[br, day - a] ** scn.contacts["missed_load_exponent"]
        missed = is_call & (rng.random(n) < np.clip(self.missed_p_hour[hour_i] * load, 0, 0.95))
        cb_done = missed & (rng.random(n) < scn.contacts["callback_done"])
        recovered = cb_done & (rng.random(n) < scn.contacts["callback_recovery"])
        handled = ~missed | recovered
        booked = handled & (rng.random(n) < self.adm_conv[adm])
        score = np.clip(np.round(rng.normal(self.adm_quality[adm], 8.0)), 0, 100).astype(np.int16)
        np.add.at(t.adm_unique_handled, adm[handled], 1)
        np.add.at(t.adm_unique_booked, adm[booked], 1)
        answered = is_call & ~missed
        np.add.at(t.adm_score_sum, adm[answered], score[answered])
        np.add.at(t.adm_score_n, adm[answered], 1)
        np.add.at(t.booked_channel, ch[booked], 1)
        # web sessions: the session of each web contact, plus sessions that did not convert
        campaign = st.campaign_of[br, ch]
        has_session = web_ch & (referrer < 0)
        sess_ids = self._ids(at - rng.integers(60, 1800, n))
        extra_n = rng.poisson(max(scn.contacts["sessions_per_web_contact"] - 1, 0), n) * has_session
        number = np.full(n, -1, dtype=np.int32)
        for b in range(B):
            sel = (br == b) & has_session & is_call
            number[sel] = rng.choice(st.dynamic_numbers[b], size=int(sel.sum()))
        static = st.static_number_of[br, ch]
        number = np.where(static >= 0, static, number)
        if has_session.any():
            xs = np.repeat(np.flatnonzero(has_session), extra_n[has_session])
            x_at = at[xs] - rng.integers(3600, 20 * DAY_S, xs.size)
            s_at = np.concatenate([at[has_session] - rng.integers(60, 1800, int(has_session.sum())), x_at])
            s_ix = np.concatenate([np.flatnonzero(has_session), xs])
            s_ids = np.concatenate([sess_ids[has_session], self._ids(x_at)])
            s_num = np.concatenate([number[has_session], np.full(xs.size, -1, dtype=np.int32)])
            for b in range(B):  # non-converting sessions still see a dynamic number
                sel = np.flatnonzero((br[s_ix] == b) & (s_num < 0))
                s_num[sel] = rng.choice(st.dynamic_numbers[b], size=sel.size)
            o = np.argsort(s_at, kind="stable")
            self._emit(
                sink,
                "sessions",
                {
                    "id": s_ids[o],
                    "branch": br[s_ix][o],
                    "channel": ch[s_ix][o],
                    "campaign": campaign[s_ix][o],
                    "number": s_num[o],
                    "started": s_at[o],
                    "pages": rng.integers(1, 9, s_ix.size).astype(np.int16)[o],
                    "converted": np.concatenate(
                        [np.ones(int(has_session.sum()), bool), np.zeros(xs.size, bool)]
                    )[o],
                },
            )
            t.sessions += s_ix.size
        # patients for booked contacts
        bk = np.flatnonzero(booked)
        nb = bk.size
        p_idx = np.zeros(0, dtype=np.int64)
        if nb:
            created = at[bk] + np.where(recovered[bk], rng.integers(600, 7200, nb), rng.integers(60, 400, nb))
            pid = self._ids(created)
            chans = scn.channels
            fem_share = np.array([c.female_share for c in chans])[ch[bk]]
            female = rng.random(nb) < fem_share
            age = np.clip(
                rng.normal(
                    np.array([c.age_mean for c in chans])[ch[bk]], np.array([c.age_sd for c in chans])[ch[bk]]
                ),
                16,
                85,
            )
            birth_day = (cal.day_epoch[day[bk]] - (age * 365.25).astype(np.int64)).astype(np.int64)
            ff, mf, ln = NAMES[scn.country]
            first_i = rng.integers(0, 1 << 30, nb)
            last_i = rng.integers(0, len(ln), nb)
            consent = rng.random(nb) < scn.loyalty["consent_marketing"]
            in_points = rng.random(nb) < scn.loyalty["points_share"]
            has_email = rng.random(nb) < 0.45
            p_idx = self.pat.add(pid, branch=br[bk], channel=ch[bk], consent=consent, in_points=in_points)
            first_names = np.where(
                female,
                np.array(ff, dtype=object)[first_i % len(ff)],
                np.array(mf, dtype=object)[first_i % len(mf)],
            )
            last_names = np.array(ln, dtype=object)[last_i]
            if scn.country == "RU":
                last_names = np.where(female, last_names + "a", last_names)
            self._emit(
                sink,
                "patients",
                {
                    "id": pid,
                    "branch": br[bk],
                    "channel": ch[bk],
                    "female": female,
                    "birth_day": birth_day,
                    "first_name": first_names,
                    "last_name": last_names,
                    "phone": phone_v[bk],
                    "has_email": has_email,
                    "number": p_idx,
                    "created": created,
                    "consent": consent,
                },
            )
            ref_sel = referrer[bk] >= 0
            if ref_sel.any():
                t.referral_patients += int(ref_sel.sum())
            doc = np.zeros(nb, dtype=np.int16)
            for b in range(B):
                sel = br[bk] == b
                doc[sel] = rng.choice(self.branch_docs[b], size=int(sel.sum()), p=self.branch_doc_p[b])
            # first visits from the next day on: the day packer places a visit anywhere in its day, so a
            # same-day visit could start before the call that booked it
            lead = rng.integers(1, max(scn.contacts["lead_days_max"], 1) + 1, nb).astype(np.int32)
            fday = np.maximum(day[bk] + lead, day[bk])
            req = self._request(
                nb,
                patient=p_idx,
                doctor=doc,
                service=st.first_service,
                kind=KIND_FIRST,
                sess=1,
                n_sess=1,
                day=fday,
                created=created,
            )
            self._queue(req)
        patient_of = np.full(n, -1, dtype=np.int64)
        patient_of[bk] = p_idx
        # referral rows
        rsel = np.flatnonzero(referrer >= 0)
        if rsel.size:
            self._emit(
                sink,
                "referrals",
                {
                    "id": self._ids(at[rsel]),
                    "referrer": referrer[rsel],
                    "referred": patient_of[rsel],
                    "at": at[rsel],
                    "booked": booked[rsel],
                },
            )
        # calls: unique first calls + repeat calls; web forms become leads
        calls_u = np.flatnonzero(is_call)
        rep_n = rng.poisson(scn.contacts["repeat_call_rate"], calls_u.size)
        rep_src = np.repeat(calls_u, rep_n)
        rep_at = at[rep_src] + rng.integers(3600, 29 * DAY_S, rep_src.size)
        rep_ok = rep_at < (cal.day_epoch[cal.n_days - 1] + 1) * DAY_S - 12 * 3600
        rep_src, rep_at = rep_src[rep_ok], rep_at[rep_ok]
        rep_missed = rng.random(rep_src.size) < scn.contacts["missed_share"]
        rep_adm = adm[rep_src].copy()
        for b in range(B):
            sel = br[rep_src] == b
            rep_adm[sel] = rng.choice(self.branch_adms[b], size=int(sel.sum()), p=self.branch_adm_p[b])
        rep_score = np.clip(np.round(rng.normal(self.adm_quality[rep_adm], 8.0)), 0, 100).astype(np.int16)
        src = np.concatenate([calls_u, rep_src])
        k_u = calls_u.size
        c_at = np.concatenate([at[calls_u], rep_at])
        c_missed = np.concatenate([missed[calls_u], rep_missed])
        c_adm = np.concatenate([adm[calls_u], rep_adm])
        c_adm = np.where(c_missed, -1, c_adm)
        c_score = np.where(c_missed, -1, np.concatenate([score[calls_u], rep_score]))
        c_unique = np.zeros(src.size, dtype=bool)
        c_unique[:k_u] = True
        c_booked = np.zeros(src.size, dtype=bool)
        c_booked[:k_u] = booked[calls_u]
        c_dur = np.where(c_missed, 0, rng.lognormal(5.0, 0.6, src.size).astype(np.int32) + 20)
        c_ring = rng.integers(5, 60, src.size).astype(np.int32)
        c_ids = self._ids(c_at)
        o = np.argsort(c_at, kind="stable")
        self._emit(
            sink,
            "calls",
            {
                "id": c_ids[o],
                "branch": br[src][o],
                "channel": ch[src][o],
                "campaign": campaign[src][o],
                "number": number[src][o],
                "session": sess_ids[src][o],
                "has_session": (has_session[src] & is_call[src])[o],
                "phone": phone_v[src][o],
                "started": c_at[o],
                "duration": c_dur[o],
                "ring": c_ring[o],
                "missed": c_missed[o],
                "unique": c_unique[o],
                "admin": c_adm[o],
                "score": c_score[o],
                "booked": c_booked[o],
                "patient": patient_of[src][o],
                "referral": (referrer[src] >= 0)[o],
            },
        )
        t.calls_total += src.size
        t.calls_unique += k_u
        t.calls_missed += int(c_missed.sum())
        t.unique_missed += int(missed[calls_u].sum())
        t.calls_recovered += int(recovered.sum())
        # callback tasks for missed unique calls (c_ids of the first k_u rows, in their original order)
        miss_u = np.flatnonzero(missed[calls_u])
        if miss_u.size:
            j = calls_u[miss_u]
            due = at[j] + 900
            done = cb_done[j]
            self._emit(
                sink,
                "callbacks",
                {
                    "id": self._ids(at[j] + 1),
                    "call": c_ids[miss_u],
                    "branch": br[j],
                    "admin": adm[j],
                    "created": at[j] + 1,
                    "due": due,
                    "done": done,
                    "done_at": due + rng.integers(0, 7200, j.size),
                    "reached": recovered[j],
                    "phone": phone_v[j],
                    "booked": booked[j],
                    "patient": patient_of[j],
                },
            )
        # web-form leads
        forms = np.flatnonzero(~is_call)
        t.web_forms += forms.size
        if forms.size:
            self._emit(
                sink,
                "leads",
                {
                    "id": self._ids(at[forms]),
                    "branch": br[forms],
                    "channel": ch[forms],
                    "campaign": campaign[forms],
                    "session": sess_ids[forms],
                    "has_session": has_session[forms],
                    "phone": phone_v[forms],
                    "created": at[forms],
                    "admin": adm[forms],
                    "booked": booked[forms],
                    "patient": patient_of[forms],
                },
            )

    @property
    def ref_channel(self) -> int:
        return self.st.ch_kind.index("referral")

    # ------------------------------------------------------------------ spend
    def _spend(self, m: int, sink: Sink) -> None:
        scn, cal = self.scn, self.cal
        a, z = int(cal.month_start[m]), int(min(cal.month_start[m + 1], cal.n_days))
        if z <= a:
            return
        frac = self._month_fraction(m)
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
                self.tally.spend_channel[c] += amount
        if not rows_c:
            return
        cc = np.concatenate(rows_c)
        bb = np.concatenate(rows_b)
        dd = np.concatenate(rows_d)
        self._emit(
            sink,
            "spend",
            {
                "id": self._ids(cal.day_epoch[dd] * DAY_S),
                "channel": cc,
                "branch": bb,
                "campaign": self.st.campaign_of[bb, cc],
                "day": dd,
                "amount": np.concatenate(rows_amt),
            },
        )

    # ------------------------------------------------------------------ booking
    def _pack(self, req: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Book each request into its doctor's first free slot on or after the wanted day: on the
        doctor's working day, within the shift, after what is already booked that day (so no
        doctor and — one doctor per room and shift — no room is ever double-booked)."""
        rng, st, cal = self.rng, self.st, self.cal
        slot = self.scn.schedule["slot_minutes"]
        gp = np.array(self.scn.schedule["gap_probabilities"])
        gp = gp / gp.sum()
        n = req["day"].size
        dur = (np.ceil(st.svc_duration[req["service"]] / slot) * slot).astype(np.int32)
        out_day = np.full(n, -1, dtype=np.int32)
        out_start = np.zeros(n, dtype=np.int32)
        T = cal.total_days
        doc = req["doctor"].astype(np.int64)
        cur = self.next_work[doc, np.minimum(req["day"], T)]
        todo = np.arange(n)
        for _ in range(90):
            ok = cur[todo] < T
            todo = todo[ok]
            if todo.size == 0:
                break
            d = doc[todo]
            dy = cur[todo].astype(np.int64)
            du = dur[todo]
            gap = (rng.choice(gp.size, size=todo.size, p=gp) * slot).astype(np.int32)
            key = rng.random(todo.size)
            o = np.lexsort((key, dy, d))
            d, dy, du, gap, ti = d[o], dy[o], du[o], gap[o], todo[o]
            tot = (gap + du).astype(np.int64)
            new_grp = np.ones(ti.size, dtype=bool)
            new_grp[1:] = (d[1:] != d[:-1]) | (dy[1:] != dy[:-1])
            cs = np.cumsum(tot)
            gstart = np.flatnonzero(new_grp)
            gid = np.cumsum(new_grp) - 1
            before = cs - tot - (cs[gstart] - tot[gstart])[gid]
            start = self.used[d, dy] + before + gap
            end = start + du
            fit = end <= self.day_len[d]
            np.maximum.at(self.used, (d[fit], dy[fit]), end[fit].astype(np.int32))
            out_day[ti[fit]] = dy[fit]
            out_start[ti[fit]] = start[fit]
            rej = ti[~fit]
            cur[rej] = self.next_work[doc[rej], np.minimum(cur[rej] + 1, T)]
            todo = rej
        return out_day >= 0, out_day, out_start

    def _appointments(self, m: int, sink: Sink, *, future: bool) -> None:
        for _ in range(400):
            parts = self.pending.pop(m, [])
            if not parts:
                return
            req = _concat(parts)
            self._book(req, m, sink, future=future)

    def _book(self, req: dict[str, np.ndarray], m: int, sink: Sink, *, future: bool) -> None:
        scn, cal, rng, st, t, pat = self.scn, self.cal, self.rng, self.st, self.tally, self.pat
        ok, day, start_min = self._pack(req)
        if (~ok).any():
            t.capacity_dropped += int((~ok).sum())
            lost = req["patient"][~ok]
            pat["pending"][lost] = False
        req = _take(req, ok)
        day, start_min = day[ok], start_min[ok]
        # requests pushed past the month go to the next month's bucket
        mon = cal.month_of_day[day]
        later = mon > m
        if later.any():
            # re-queued for their month; the slot found here stays reserved (``used`` only grows),
            # so the later booking lands after it — never on top of another appointment
            nxt = _take(req, later)
            nxt["day"] = day[later]
            self._queue(nxt)
            keep = ~later
            req, day, start_min = _take(req, keep), day[keep], start_min[keep]
        n = day.size
        if n == 0:
            return
        doc = req["doctor"].astype(np.int64)
        b = st.doc_branch[doc]
        svc = req["service"].astype(np.int64)
        slot = scn.schedule["slot_minutes"]
        dur = (np.ceil(st.svc_duration[svc] / slot) * slot).astype(np.int64)
        start = self._day_seconds(b, day) + (st.doc_start_min[doc] + start_min).astype(np.int64) * 60
        end = start + dur * 60
        is_first = req["kind"] == KIND_FIRST
        created = np.minimum(req["created"], start - 600)
        # statuses
        u = rng.random(n)
        ns = np.where(is_first, scn.appointments["first_visit_no_show"], scn.appointments["no_show"])
        cancel_p = scn.appointments["cancelled"]
        status = np.where(u < ns, ST_NO_SHOW, np.where(u < ns + cancel_p, ST_CANCELLED, ST_DONE)).astype(
            np.int8
        )
        if future:
            status = np.where(rng.random(n) < 0.6, ST_BOOKED, ST_CONFIRMED).astype(np.int8)
        np.add.at(t.appt_status, (is_first.astype(np.int64), status.astype(np.int64)), 1)
        price = np.where(
            is_first,
            st.first_price_minor_by_month[np.minimum(cal.month_of_day[day], scn.months - 1)],
            st.svc_price_minor[svc],
        )
        a_ids = self._ids(start)
        pidx = req["patient"]
        self._emit(
            sink,
            "appointments",
            {
                "id": a_ids,
                "patient": pidx,
                "doctor": doc.astype(np.int16),
                "room": st.doc_room[doc],
                "branch": b,
                "service": svc.astype(np.int16),
                "start": start,
                "end": end,
                "status": status,
                "is_first": is_first,
                "price": price,
                "created": created,
                "kind": req["kind"],
                "recall": req["recall"] >= 0,
            },
        )
        if req["recall"].size:
            rr = req["recall"] >= 0
            if rr.any():
                self.recall_returned[req["recall"][rr]] = day[rr]
        if future:
            return
        done = status == ST_DONE
        # payments for done visits
        di = np.flatnonzero(done)
        paid_at = end[di] + rng.integers(60, 900, di.size)
        methods = np.array([scn.appointments["payment_methods"][k] for k in PAYMENT_METHODS])
        method = rng.choice(len(PAYMENT_METHODS), size=di.size, p=methods / methods.sum()).astype(np.int8)
        pay_ok = price[di] > 0
        self._emit(
            sink,
            "payments",
            {
                "id": self._ids(paid_at[pay_ok]),
                "appointment": a_ids[di][pay_ok],
                "patient": pidx[di][pay_ok],
                "branch": b[di][pay_ok],
                "amount": price[di][pay_ok],
                "method": method[pay_ok],
                "paid_at": paid_at[pay_ok],
                "kind": np.zeros(int(pay_ok.sum()), dtype=np.int8),
            },
        )
        np.add.at(t.revenue_branch, b[di], price[di])
        np.add.at(pat["revenue"], pidx[di], price[di])
        np.add.at(pat["done_visits"], pidx[di], 1)
        t.first_visit_revenue += int(price[di][is_first[di]].sum())
        t.repeat_revenue += int(price[di][~is_first[di]].sum())
        pat["last_visit"][pidx[di]] = np.maximum(pat["last_visit"][pidx[di]], day[di])
        # first visits: consultation records, expectations, conversion, consents
        fd = np.flatnonzero(done & is_first)
        if fd.size:
            p = pidx[fd]
            d = doc[fd]
            pat["first_doctor"][p] = d
            pat["first_done"][p] = day[fd]
            np.add.at(t.first_patients_channel, pat["channel"][p], 1)
            sat = scn.satisfaction
            expectation = rng.normal(
                sat["expectation_mean"] + self.doc_a["over_promise"][d], sat["expectation_sd"]
            )
            pat["expectation"][p] = expectation
            converted = rng.random(fd.size) < self.doc_a["conversion"][d]
            np.add.at(t.consults, d, 1)
            np.add.at(t.converted, d, converted.astype(np.int64))
            np.add.at(t.expectations, d, expectation)
            c_req = self._new_episode(
                p[converted],
                d[converted],
                day[fd][converted] + rng.integers(2, 15, int(converted.sum())).astype(np.int32),
                end[fd][converted],
                episode=1,
            )
            planned_svc = np.full(fd.size, -1, dtype=np.int16)
            planned_svc[converted] = c_req["service"]
            self._emit(
                sink,
                "consultations",
                {
                    "id": self._ids(start[fd]),
                    "appointment": a_ids[fd],
                    "patient": p,
                    "doctor": d.astype(np.int16),
                    "at": start[fd],
                    "expectation": np.clip(np.round(expectation, 1), 0, 10),
                    "converted": converted,
                    "service": planned_svc,
                    "quote": np.where(
                        converted,
                        st.svc_price_minor[np.maximum(planned_svc, 0)]
                        * np.maximum(c_req_n_sess(c_req, converted), 1),
                        0,
                    ),
                },
            )
            self._emit(
                sink,
                "consents",
                {
                    "id": self._ids(start[fd]),
                    "patient": p,
                    "at": start[fd],
                    "marketing": pat["consent"][p],
                },
            )
            self._queue(c_req)
            pat["pending"][p[~converted]] = False
        # surveys: NPS and CSAT from outcome versus expectation
        sat = scn.satisfaction
        resp = done & (rng.random(n) < sat["survey_response"])
        ri = np.flatnonzero(resp)
        treat = done & ~is_first
        comp_rate = np.array(
            [
                scn.aftercare["complication_rates"][c]
                for c in (
                    "consultation",
                    "injectables",
                    "botulinum",
                    "fillers",
                    "laser",
                    "peels",
                    "body",
                    "surgery",
                    "dental",
                )
            ]
        )
        complication = treat & (rng.random(n) < comp_rate[st.svc_category[svc]])
        t.complications += int(complication.sum())
        t.treatment_visits += int(treat.sum())
        if ri.size:
            d = doc[ri]
            z = (
                self.doc_a["quality"][d]
                - pat["expectation"][pidx[ri]]
                - self.doc_a["over_treatment"][d] * sat["over_treatment_penalty"]
                - complication[ri] * sat["complication_penalty"]
                + rng.normal(0, sat["noise_sd"], ri.size)
            )
            nps = np.clip(np.round(sat["nps_center"] + sat["nps_slope"] * z), 0, 10).astype(np.int8)
            csat = np.clip(np.round(3.5 + z), 1, 5).astype(np.int8)
            ans_at = end[ri] + rng.integers(2 * 3600, 3 * DAY_S, ri.size)
            self._emit(
                sink,
                "surveys",
                {
                    "id": self._ids(ans_at),
                    "appointment": a_ids[ri],
                    "patient": pidx[ri],
                    "doctor": d.astype(np.int16),
                    "branch": b[ri],
                    "nps": nps,
                    "csat": csat,
                    "at": ans_at,
                },
            )
            t.nps_answers.append((d.astype(np.int16), nps, is_first[ri]))
            promoters = ri[(nps >= 9) & (rng.random(ri.size) < scn.loyalty["referral_probability"])]
            if promoters.size:
                rday = day[promoters] + rng.integers(7, 61, promoters.size).astype(np.int32)
                inside = rday < cal.n_days
                rday, rp = rday[inside], pidx[promoters][inside]
                months = cal.month_of_day[rday]
                for mm in np.unique(months):
                    sel = months == mm
                    self.referrals[int(mm)].append({"referrer": rp[sel], "day": rday[sel]})
        ci = np.flatnonzero(complication)
        if ci.size:
            self._emit(
                sink,
                "complications",
                {
                    "id": self._ids(end[ci] + 3600),
                    "appointment": a_ids[ci],
                    "patient": pidx[ci],
                    "doctor": doc[ci].astype(np.int16),
                    "at": end[ci] + rng.integers(3600, 5 * DAY_S, ci.size),
                    "severe": rng.random(ci.size) < 0.15,
                },
            )
        # points: earn on spend, redeem above the threshold
        lo = scn.loyalty
        pi = di[pat["in_points"][pidx[di]] & (price[di] > 0)]
        if pi.size and lo["points_per_100"] > 0:
            earn = (price[pi] // 10000 * lo["points_per_100"]).astype(np.int64)
            pp = pidx[pi]
            np.add.at(pat["points"], pp, earn)
            bal = pat["points"][pp]
            red = (bal >= lo["redeem_threshold"]) & (rng.random(pi.size) < lo["redeem_probability"])
            # one redemption per patient per batch
            red_idx = pi[red]
            _, first_of = np.unique(pidx[red_idx], return_index=True)
            red_idx = red_idx[first_of]
            red_amt = np.full(red_idx.size, int(lo["redeem_threshold"]), dtype=np.int64)
            np.subtract.at(pat["points"], pidx[red_idx], red_amt)
            t.points_earned += int(earn.sum())
            t.points_redeemed += int(red_amt.sum())
            e_at = paid_at[np.searchsorted(di, pi)]
            r_at = paid_at[np.searchsorted(di, red_idx)] + 1
            self._emit(
                sink,
                "points",
                {
                    "id": self._ids(np.concatenate([e_at, r_at])),
                    "patient": np.concatenate([pidx[pi], pidx[red_idx]]),
                    "appointment": np.concatenate([a_ids[pi], a_ids[red_idx]]),
                    "points": np.concatenate([earn, -red_amt]),
                    "at": np.concatenate([e_at, r_at]),
                },
            )
        # treatment episodes: follow-ups, memberships, next sessions
        ep_start = done & (req["kind"] == KIND_COURSE) & (req["sess"] == 1)
        es = np.flatnonzero(ep_start)
        if es.size:
            fdays = np.array(scn.aftercare["followup_days"], dtype=np.int64)
            if fdays.size:
                k = fdays.size
                src = np.repeat(es, k)
                due = end[src] + np.tile(fdays, es.size) * DAY_S
                fdone = rng.random(src.size) < scn.aftercare["followup_done"]
                t.followups += src.size
                t.followups_done += int(fdone.sum())
                self._emit(
                    sink,
                    "followups",
                    {
                        "id": self._ids(end[src]),
                        "appointment": a_ids[src],
                        "patient": pidx[src],
                        "doctor": doc[src].astype(np.int16),
                        "branch": b[src],
                        "due": due,
                        "done": fdone,
                        "day_offset": np.tile(fdays, es.size).astype(np.int16),
                    },
                )
            buy = es[rng.random(es.size) < lo["membership_probability"]]
            if buy.size:
                mix = np.array([lo["membership_mix"][k] for k in MEMBERSHIP_KINDS])
                kind = rng.choice(len(MEMBERSHIP_KINDS), size=buy.size, p=mix / mix.sum()).astype(np.int8)
                fee = np.where(
                    kind == 0,
                    lo["membership_fee"],
                    np.where(
                        kind == 1,
                        lo["stored_value_amount"],
                        st.svc_price_minor[svc[buy]]
                        / 100
                        * lo["package_sessions"]
                        * (1 - lo["package_discount"]),
                    ),
                )
                fee_minor = np.round(
                    fee * scn.price_factor * (kind != 2) * 100 + fee * 100 * (kind == 2)
                ).astype(np.int64)
                bonus = np.where(kind == 1, np.round(fee_minor * lo["stored_value_bonus"]), 0).astype(
                    np.int64
                )
                np.add.at(t.memberships, kind, 1)
                m_at = end[buy] + 300
                self._emit(
                    sink,
                    "memberships",
                    {
                        "id": self._ids(m_at),
                        "patient": pidx[buy],
                        "branch": b[buy],
                        "kind": kind,
                        "price": fee_minor,
                        "bonus": bonus,
                        "sessions": np.where(kind == 2, lo["package_sessions"], 0).astype(np.int16),
                        "service": np.where(kind == 2, svc[buy], -1).astype(np.int16),
                        "started": m_at,
                        "ends": m_at + 365 * DAY_S,
                    },
                )
        self._next(req, status, day, end)

    def _next(self, req: dict[str, np.ndarray], status: np.ndarray, day: np.ndarray, end: np.ndarray) -> None:
        scn, rng, pat, t = self.scn, self.rng, self.pat, self.tally
        n = day.size
        kind = req["kind"]
        doc = req["doctor"].astype(np.int64)
        done = status == ST_DONE
        missed = ~done
        parts: list[dict[str, np.ndarray]] = []
        # missed visits: rebooked or given up
        resched = missed & (rng.random(n) < scn.appointments["reschedule"]) & (req["resched"] < 3)
        if resched.any():
            r = _take(req, resched)
            r["day"] = day[resched] + rng.integers(2, 11, int(resched.sum())).astype(np.int32)
            r["created"] = end[resched] + 3600
            r["resched"] = r["resched"] + 1
            r["recall"] = np.full(r["day"].size, -1, dtype=np.int64)
            parts.append(r)
        gave_up = missed & ~resched
        first_gave_up = gave_up & (kind == KIND_FIRST)
        pat["pending"][req["patient"][first_gave_up]] = False
        # course sessions continue
        cont = done & (kind == KIND_COURSE) & (req["sess"] < req["n_sess"])
        if cont.any():
            r = _take(req, cont)
            iv = self.st.svc_interval[r["service"]].astype(np.int32)
            r["day"] = day[cont] + np.maximum(iv + rng.integers(-2, 3, iv.size).astype(np.int32), 1)
            r["sess"] = r["sess"] + 1
            r["created"] = end[cont] + 600
            r["recall"] = np.full(r["day"].size, -1, dtype=np.int64)
            parts.append(r)
        # over-treatment: extra follow-on services after the course
        after_course = (
            done & (((kind == KIND_COURSE) & (req["sess"] >= req["n_sess"])) | (kind == KIND_FOLLOW))
        ) | (gave_up & (kind != KIND_FIRST))
        extra = after_course & (req["ot_left"] > 0) & done
        if extra.any():
            r = _take(req, extra)
            svc = r["service"].copy()
            for i in range(svc.size):
                fo = self.st.svc_follow[int(svc[i])]
                if fo.size:
                    svc[i] = fo[int(rng.integers(0, fo.size))]
                else:
                    opts = self.st.doc_services[int(r["doctor"][i])]
                    svc[i] = opts[int(rng.integers(0, opts.size))]
            r["service"] = svc
            r["kind"] = np.full(svc.size, KIND_FOLLOW, dtype=np.int8)
            r["ot_left"] = r["ot_left"] - 1
            r["day"] = day[extra] + rng.integers(7, 22, svc.size).astype(np.int32)
            r["created"] = end[extra] + 600
            r["recall"] = np.full(svc.size, -1, dtype=np.int64)
            parts.append(r)
        # episode over: the patient returns for a new episode with the doctor's repeat rate
        ep_end = after_course & ~extra
        ei = np.flatnonzero(ep_end)
        if ei.size:
            d = doc[ei]
            ret = rng.random(ei.size) < self.doc_a["repeat"][d]
            observable = day[ei] <= self.cal.n_days - 1 - 200
            np.add.at(t.episode_ends, d[observable], 1)
            np.add.at(t.episode_returns, d[observable & ret], 1)
            gap = np.minimum(rng.gamma(2.0, scn.aftercare["repeat_gap_days"] / 2.0, ei.size), 180).astype(
                np.int32
            )
            rp = req["patient"][ei]
            if ret.any():
                parts.append(
                    self._new_episode(
                        rp[ret],
                        d[ret],
                        day[ei][ret] + np.maximum(gap[ret], 7),
                        end[ei][ret] + 3600,
                        episode=req["episode"][ei][ret] + 1,
                    )
                )
            pat["pending"][rp[~ret]] = False
            pat["treated"][rp] = True
        for p in parts:
            self._queue(p)

    def _emit_recall(self, sink: Sink) -> None:
        if not self.recall_rows:
            return
        rows = _concat(self.recall_rows)
        ret_day = self.recall_returned
        delta = np.where(ret_day >= 0, ret_day - self.recall_day, -1)
        outcome = np.where(
            (delta >= 0) & (delta <= 7), 1, np.where((delta > 7) & (delta <= 60), 2, 0)
        ).astype(np.int8)
        rows["outcome"] = outcome
        rows["returned_day"] = ret_day
        self.recall_outcome = outcome
        self._emit(sink, "recall_contacts", rows)


def c_req_n_sess(req: dict[str, np.ndarray], mask: np.ndarray) -> np.ndarray:
    out = np.zeros(mask.size, dtype=np.int64)
    out[mask] = req["n_sess"]
    return out
