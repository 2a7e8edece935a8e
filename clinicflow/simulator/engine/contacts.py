"""Acquisition: each month's contacts (calls and web forms) per branch and channel, the promoters'
referred friends among them, who answers, which calls are missed and called back, which contacts
book a first visit, and the web sessions behind the web contacts."""

from __future__ import annotations

import numpy as np

from clinicflow.simulator.engine.batches import Contacts
from clinicflow.simulator.engine.calls import CallLog
from clinicflow.simulator.engine.demand import Demand
from clinicflow.simulator.engine.registration import Registration
from clinicflow.simulator.engine.staff import Staff
from clinicflow.simulator.engine.state import DAY_S, World, concat


class Acquisition:
    def __init__(self, world: World, staff: Staff, demand: Demand) -> None:
        self.w = world
        self.staff = staff
        self.demand = demand
        self.registration = Registration(world, staff)
        self.log = CallLog(world, staff)
        scn = world.scn
        self.open_hour = np.array([b.open_hour for b in scn.branches])
        self.close_hour = np.array([b.close_hour for b in scn.branches])
        self.web = np.array([c.web for c in scn.channels])
        self.offline = np.array([k == "offline" for k in world.st.ch_kind])
        self.ref_channel = world.st.ch_kind.index("referral")

    def month(self, m: int) -> None:
        c = self._arrivals(m)
        if c is None:
            return
        self._answer(c)
        self._sessions(c)
        patient_of = self.registration.register(c)
        self.log.referrals(c, patient_of)
        self.log.calls(c, patient_of)
        self.log.leads(c, patient_of)

    def _arrivals(self, m: int) -> Contacts | None:
        """How many contacts per branch and channel (Poisson around the demand), on which day and
        at what time; the referred friends join them."""
        w, dm = self.w, self.demand
        rng, t = w.rng, w.tally
        B, C = len(w.scn.branches), len(w.scn.channels)
        a, z = w.month_bounds(m)
        if z <= a:
            return None
        base = dm.base_contacts(m) * dm.scale
        lam = np.outer(dm.branch_share, base * dm.price_mult[m])  # (B, C)
        counts = rng.poisson(lam)
        t.expected_no_price_month[m] = base[[c for c in range(C) if w.st.ch_kind[c] != "referral"]].sum()
        t.price_month[m] = dm.fv_price[m]
        br = np.repeat(np.repeat(np.arange(B), C), counts.ravel()).astype(np.int16)
        ch = np.repeat(np.tile(np.arange(C), B), counts.ravel()).astype(np.int16)
        n = br.size
        dw = dm.day_weight[a:z]
        day = (a + rng.choice(z - a, size=n, p=dw / dw.sum())).astype(np.int32)
        referrer = np.full(n, -1, dtype=np.int64)
        # referrals brought by promoters
        ref_parts = w.referrals.pop(m, [])
        if ref_parts:
            ref = concat(ref_parts)
            rday = np.clip(ref["day"], a, z - 1).astype(np.int32)
            k = rday.size
            br = np.concatenate([br, w.pat["branch"][ref["referrer"]]])
            ch = np.concatenate([ch, np.full(k, self.ref_channel, dtype=np.int16)])
            day = np.concatenate([day, rday])
            referrer = np.concatenate([referrer, ref["referrer"]])
            t.referral_contacts += k
        n = br.size
        if n == 0:
            return None
        t.contacts_month[m] += float((referrer < 0).sum())
        np.add.at(t.contacts_channel, ch, 1)
        hour_i = rng.choice(dm.hour_p.size, size=n, p=dm.hour_p)
        hour = np.minimum(self.open_hour[br] + hour_i, self.close_hour[br] - 1)
        at = w.day_seconds(br, day) + hour * 3600 + rng.integers(0, 3600, n)
        late = at > w.now  # the rest of today has not happened yet
        if late.any():
            t.contacts_month[m] -= float((late & (referrer < 0)).sum())
            np.subtract.at(t.contacts_channel, ch[late], 1)
            t.referral_contacts -= int((late & (referrer >= 0)).sum())
            keep = ~late
            br, ch, day, referrer, hour_i, at = (
                br[keep],
                ch[keep],
                day[keep],
                referrer[keep],
                hour_i[keep],
                at[keep],
            )
            if at.size == 0:
                return None
        o = np.lexsort((at,))
        return Contacts(
            a=a, z=z, br=br[o], ch=ch[o], day=day[o], referrer=referrer[o], hour_i=hour_i[o], at=at[o]
        )

    def _answer(self, c: Contacts) -> None:
        """Calls or web forms; the administrator on duty; missed calls (more in the busy hours and
        on a branch's busy days) and their callbacks; which contacts book a first visit."""
        w, staff = self.w, self.staff
        rng, t, ct = w.rng, w.tally, w.scn.contacts
        n, br, a = c.n, c.br, c.a
        c.is_call = (rng.random(n) < ct["call_share"]) | self.offline[c.ch] | (c.referrer >= 0)
        c.phone = w.phones.take(n)
        c.adm = staff.administrators(np.zeros(n, dtype=np.int16), br)
        per_day = np.zeros((len(w.scn.branches), c.z - a), dtype=np.float64)
        np.add.at(per_day, (br, c.day - a), 1.0)
        mean_day = np.maximum(per_day.mean(axis=1, keepdims=True), 1e-9)
        load = np.clip(per_day / mean_day, 0.5, 2.0)[br, c.day - a] ** ct["missed_load_exponent"]
        c.missed = c.is_call & (rng.random(n) < np.clip(self.demand.missed_p_hour[c.hour_i] * load, 0, 0.95))
        c.cb_done = c.missed & (rng.random(n) < ct["callback_done"])
        c.recovered = c.cb_done & (rng.random(n) < ct["callback_recovery"])
        handled = ~c.missed | c.recovered
        c.booked = handled & (rng.random(n) < staff.adm_conv[c.adm])
        c.score = staff.score(c.adm)
        adm = c.adm
        np.add.at(t.adm_unique_handled, adm[handled], 1)
        np.add.at(t.adm_unique_booked, adm[c.booked], 1)
        answered = c.is_call & ~c.missed
        np.add.at(t.adm_score_sum, adm[answered], c.score[answered])
        np.add.at(t.adm_score_n, adm[answered], 1)
        np.add.at(t.booked_channel, c.ch[c.booked], 1)

    def _sessions(self, c: Contacts) -> None:
        """Web sessions: the session of each web contact, plus sessions that did not convert; the
        tracking number each session (or offline ad) showed."""
        w = self.w
        rng, st = w.rng, w.st
        n, br = c.n, c.br
        c.campaign = st.campaign_of[br, c.ch]
        c.has_session = self.web[c.ch] & (c.referrer < 0)
        c.sess_ids = w.ids(c.at - rng.integers(60, 1800, n))
        extra_n = rng.poisson(max(w.scn.contacts["sessions_per_web_contact"] - 1, 0), n) * c.has_session
        number = np.full(n, -1, dtype=np.int32)
        for b in range(len(w.scn.branches)):
            sel = (br == b) & c.has_session & c.is_call
            number[sel] = rng.choice(st.dynamic_numbers[b], size=int(sel.sum()))
        static = st.static_number_of[br, c.ch]
        c.number = np.where(static >= 0, static, number)
        if c.has_session.any():
            self._emit_sessions(c, extra_n)

    def _emit_sessions(self, c: Contacts, extra_n: np.ndarray) -> None:
        w = self.w
        rng, st = w.rng, w.st
        has = c.has_session
        xs = np.repeat(np.flatnonzero(has), extra_n[has])
        x_at = c.at[xs] - rng.integers(3600, 20 * DAY_S, xs.size)
        s_at = np.concatenate([c.at[has] - rng.integers(60, 1800, int(has.sum())), x_at])
        s_ix = np.concatenate([np.flatnonzero(has), xs])
        s_ids = np.concatenate([c.sess_ids[has], w.ids(x_at)])
        s_num = np.concatenate([c.number[has], np.full(xs.size, -1, dtype=np.int32)])
        for b in range(len(w.scn.branches)):  # non-converting sessions still see a dynamic number
            sel = np.flatnonzero((c.br[s_ix] == b) & (s_num < 0))
            s_num[sel] = rng.choice(st.dynamic_numbers[b], size=sel.size)
        o = np.argsort(s_at, kind="stable")
        w.emit(
            "sessions",
            {
                "id": s_ids[o],
                "branch": c.br[s_ix][o],
                "channel": c.ch[s_ix][o],
                "campaign": c.campaign[s_ix][o],
                "number": s_num[o],
                "started": s_at[o],
                "pages": rng.integers(1, 9, s_ix.size).astype(np.int16)[o],
                "converted": np.concatenate([np.ones(int(has.sum()), bool), np.zeros(xs.size, bool)])[o],
            },
        )
        w.tally.sessions += s_ix.size
