"""Past visits: payments, first-visit consultations (expectations, conversion, consents), the
surveys that follow (and the promoters' referrals), complications."""

from __future__ import annotations

import numpy as np

from clinicflow.simulator.engine.batches import Booked
from clinicflow.simulator.engine.setup import KIND_FOLLOW
from clinicflow.simulator.engine.staff import Staff
from clinicflow.simulator.engine.state import DAY_S, Batch, NewEpisode, World, take
from clinicflow.simulator.scenario import CATEGORIES, PAYMENT_METHODS

Placed = tuple[Batch, np.ndarray, np.ndarray]  # requests with their day and start minute in the shift
CONSENT_BEFORE_START_S = 240  # consents are signed at reception, before the first visit starts

PROMOTER_NPS, DETRACTOR_NPS = 9, 6  # NPS: promoters answer 9-10, detractors 0-6
AFTER_VISIT_DELAY_S = 2 * 3600  # the after-visit survey goes out two hours after the visit
# days after the visit until a service group's result has settled (the settled-result survey); the
# feedback app's defaults (``feedback.models.DEFAULT_SETTLED_DAYS``, checked equal by a test)
SETTLED_DAYS = {
    "botulinum": 14,
    "fillers": 14,
    "injectables": 14,
    "laser": 30,
    "peels": 14,
    "body": 30,
    "surgery": 60,
    "dental": 14,
}
# "what could be better": the keys of the bits of an answer's ``tags`` (the feedback app's default
# improvement tags, ``feedback.services.settings.DEFAULT_TAGS``, in this order)
TAGS = ("waiting", "result", "price", "staff", "explanation", "aftercare")


def planned_sessions(req: Batch, mask: np.ndarray) -> np.ndarray:
    """Sessions of the planned course per consultation (0 where nothing was planned)."""
    out = np.zeros(mask.size, dtype=np.int64)
    out[mask] = req["n_sess"]
    return out


class Visits:
    def __init__(self, world: World, staff: Staff, new_episode: NewEpisode) -> None:
        self.w = world
        self.staff = staff
        self.new_episode = new_episode
        self.complication_rate = np.array([world.scn.aftercare["complication_rates"][c] for c in CATEGORIES])
        same_day = world.scn.appointments["same_day_procedure"]
        self.same_day_p = np.array([same_day[c] for c in CATEGORIES])
        self.settled_s = np.array([SETTLED_DAYS.get(c, 0) * DAY_S for c in CATEGORIES], dtype=np.int64)

    def payments(self, bk: Booked) -> tuple[np.ndarray, np.ndarray]:
        """Each done visit is paid; revenue and the patients' last visit follow. Returns the done
        visits (indexes in the batch) and when each was paid."""
        w = self.w
        scn, rng, t, pat = w.scn, w.rng, w.tally, w.pat
        price, pidx, b = bk.price, bk.pidx, bk.branch
        di = np.flatnonzero(bk.done)
        paid_at = np.minimum(bk.end[di] + rng.integers(60, 900, di.size), w.now)  # paid by now
        methods = np.array([scn.appointments["payment_methods"][k] for k in PAYMENT_METHODS])
        method = rng.choice(len(PAYMENT_METHODS), size=di.size, p=methods / methods.sum()).astype(np.int8)
        pay_ok = price[di] > 0
        w.emit(
            "payments",
            {
                "id": w.ids(paid_at[pay_ok]),
                "appointment": bk.a_ids[di][pay_ok],
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
        t.first_visit_revenue += int(price[di][bk.is_first[di]].sum())
        # the first visit's day: the consultation and what was done after it that day
        same_day = ~bk.is_first[di] & (bk.day[di] == pat["first_done"][pidx[di]])
        t.first_day_revenue += int(price[di][bk.is_first[di] | same_day].sum())
        t.same_day_done += int(same_day.sum())
        t.repeat_revenue += int(price[di][~bk.is_first[di]].sum())
        pat["last_visit"][pidx[di]] = np.maximum(pat["last_visit"][pidx[di]], bk.day[di])
        return di, paid_at

    def first_visits(self, bk: Booked) -> Placed | None:
        """Done first visits: the consultation (expectation, conversion into a treatment plan) and
        the patient's consents; a converted patient's first session is queued."""
        w = self.w
        scn, rng, t, pat, st = w.scn, w.rng, w.tally, w.pat, w.st
        doc_a = self.staff.doc_a
        fd = np.flatnonzero(bk.done & bk.is_first)
        if not fd.size:
            return None
        p = bk.pidx[fd]
        d = bk.doc[fd]
        start = bk.start[fd]
        pat["first_doctor"][p] = d
        pat["first_done"][p] = bk.day[fd]
        np.add.at(t.first_patients_channel, pat["channel"][p], 1)
        sat = scn.satisfaction
        expectation = rng.normal(sat["expectation_mean"] + doc_a["over_promise"][d], sat["expectation_sd"])
        pat["expectation"][p] = expectation
        converted = rng.random(fd.size) < doc_a["conversion"][d]
        np.add.at(t.consults, d, 1)
        np.add.at(t.converted, d, converted.astype(np.int64))
        np.add.at(t.expectations, d, expectation)
        c_req = self.new_episode(
            p[converted],
            d[converted],
            bk.day[fd][converted] + rng.integers(2, 15, int(converted.sum())).astype(np.int32),
            bk.end[fd][converted],
        )
        # the first procedure the same day, right after the consultation (per service category), in
        # the time the first visit was booked with for it (the day packer's same-day reserve)
        same = rng.random(c_req["day"].size) < self.same_day_p[st.svc_category[c_req["service"]]]
        t.same_day_planned += int(same.sum())
        ci = fd[converted][same]
        shift_start = (
            w.day_seconds(bk.branch[ci], bk.day[ci]) + st.doc_start_min[bk.doc[ci]].astype(np.int64) * 60
        )
        same_day = (take(c_req, same), bk.day[ci], ((bk.end[ci] - shift_start) // 60).astype(np.int32))
        planned_svc = np.full(fd.size, -1, dtype=np.int16)
        planned_svc[converted] = c_req["service"]
        # the service group the consultation was about: the planned treatment's, else the visit's
        category = st.svc_category[np.where(converted, planned_svc, bk.svc[fd])].astype(np.int8)
        w.emit(
            "consultations",
            {
                "id": w.ids(start),
                "appointment": bk.a_ids[fd],
                "patient": p,
                "doctor": d.astype(np.int16),
                "branch": bk.branch[fd],
                "category": category,
                "at": start,
                "expectation": np.clip(np.round(expectation, 1), 0, 10),
                "converted": converted,
                "service": planned_svc,
                "sessions": planned_sessions(c_req, converted),
                "quote": np.where(
                    converted,
                    st.svc_price_minor[np.maximum(planned_svc, 0)]
                    * np.maximum(planned_sessions(c_req, converted), 1),
                    0,
                ),
            },
        )
        # signed at reception, a minute after arriving (the writer's ``arrived_at``: 5 minutes before
        # the start), before any treatment; the marketing consent half a minute later
        signed = start - CONSENT_BEFORE_START_S
        w.emit("consents", {"id": w.ids(signed), "patient": p, "at": signed, "marketing": pat["consent"][p]})
        w.queue(take(c_req, ~same))
        pat["pending"][p[~converted]] = False
        return same_day

    def outcomes(self, bk: Booked) -> None:
        """Surveys (every one sent, some answered: NPS and CSAT from the outcome against the
        expectation) and complications."""
        w = self.w
        rng, t = w.rng, w.tally
        n, done = bk.n, bk.done
        treat = done & ~bk.is_first
        complication = treat & (rng.random(n) < self.complication_rate[w.st.svc_category[bk.svc]])
        t.complications += int(complication.sum())
        t.treatment_visits += int(treat.sum())
        self._surveys(bk, complication)
        ti = np.flatnonzero(treat)
        treatment_ids = w.ids(bk.end[ti] + 300)  # signed off five minutes after the visit
        if ti.size:
            w.emit(
                "treatments",
                {
                    "id": treatment_ids,
                    "appointment": bk.a_ids[ti],
                    "patient": bk.pidx[ti],
                    "doctor": bk.doc[ti].astype(np.int16),
                    "service": bk.svc[ti],
                    "at": np.minimum(bk.end[ti] + 300, w.now),
                    # a procedure the doctor added after the course (planted over-treatment)
                    "added": bk.req["kind"][ti] == KIND_FOLLOW,
                },
            )
        ci = np.flatnonzero(complication)
        if ci.size:
            c_at = bk.end[ci] + rng.integers(3600, 5 * DAY_S, ci.size)
            severe = rng.random(ci.size) < 0.15
            seen = c_at <= w.now  # a complication that shows after now is not known yet
            ci, c_at, severe = ci[seen], c_at[seen], severe[seen]
            w.emit(
                "complications",
                {
                    "id": w.ids(bk.end[ci] + 3600),
                    "appointment": bk.a_ids[ci],
                    "treatment": treatment_ids[np.searchsorted(ti, ci)],
                    "patient": bk.pidx[ci],
                    "doctor": bk.doc[ci].astype(np.int16),
                    "service": bk.svc[ci],
                    "branch": bk.branch[ci],
                    "at": c_at,
                    "severe": severe,
                },
            )

    def _surveys(self, bk: Booked, complication: np.ndarray) -> None:
        """Every done visit's after-visit survey, and the settled-result survey of the visits whose
        service group has a settled delay (``SETTLED_DAYS``), each sent by now; a share
        ``satisfaction.survey_response`` of them is answered within three days of the link (by now),
        the rest stay unanswered (and expire)."""
        w = self.w
        rng, pat, sat, doc_a = w.rng, w.pat, w.scn.satisfaction, self.staff.doc_a
        di = np.flatnonzero(bk.done)
        delay = self.settled_s[w.st.svc_category[bk.svc[di]]]
        si = di[delay > 0]
        vi = np.concatenate([di, si])
        kind = np.concatenate([np.zeros(di.size, np.int8), np.ones(si.size, np.int8)])
        sent = bk.end[vi] + np.concatenate([np.full(di.size, AFTER_VISIT_DELAY_S), delay[delay > 0]])
        keep = sent <= w.now
        vi, kind, sent = vi[keep], kind[keep], sent[keep]
        if not vi.size:
            return
        ans_at = sent + rng.integers(600, 3 * DAY_S, vi.size)
        answered = (rng.random(vi.size) < sat["survey_response"]) & (ans_at <= w.now)
        d = bk.doc[vi]
        # the result as the patient sees it (0-10, the consultation's expectation scale), and how it
        # compares with what they expected
        result = (
            doc_a["quality"][d]
            - doc_a["over_treatment"][d] * sat["over_treatment_penalty"]
            - complication[vi] * sat["complication_penalty"]
            + rng.normal(0, sat["noise_sd"], vi.size)
        )
        consultant = pat["first_doctor"][bk.pidx[vi]]
        z = result - pat["expectation"][bk.pidx[vi]]
        nps = np.clip(np.round(sat["nps_center"] + sat["nps_slope"] * z), 0, 10).astype(np.int8)
        csat = np.clip(np.round(3.5 + z), 1, 5).astype(np.int8)
        tags = self._tags(nps, z, complication[vi], d, consultant)
        w.emit(
            "surveys",
            {
                "id": w.ids(sent),
                "appointment": bk.a_ids[vi],
                "patient": bk.pidx[vi],
                "doctor": d.astype(np.int16),
                "branch": bk.branch[vi],
                "service": bk.svc[vi],
                "kind": kind,
                "sent": sent,
                "answered": answered,
                "nps": nps,
                "csat": csat,
                "result": np.clip(np.round(result), 0, 10).astype(np.int8),
                "tags": np.where(answered, tags, 0).astype(np.int16),
                "at": np.where(answered, ans_at, sent),
            },
        )
        w.tally.nps_answers.append((d[answered].astype(np.int16), nps[answered], bk.is_first[vi][answered]))
        # a promoter of the after-visit survey may bring a friend
        ri = vi[answered & (kind == 0)]
        promoted = nps[answered & (kind == 0)] >= PROMOTER_NPS
        promoters = ri[promoted & (rng.random(ri.size) < w.scn.loyalty["referral_probability"])]
        if promoters.size:
            self._refer(bk, promoters)

    def _tags(
        self, nps: np.ndarray, z: np.ndarray, complication: np.ndarray, d: np.ndarray, consultant: np.ndarray
    ) -> np.ndarray:
        """ "What could be better" (a bit per ``TAGS`` key), ticked by patients who are not promoters
        from the causes the engine knows: a result below the expectation, a complication, a doctor who
        adds procedures (price), a consultant who over-promises (explanations); waiting time and staff
        at a small base rate, more often the lower the score."""
        rng, doc_a = self.w.rng, self.staff.doc_a
        k = nps.size
        unhappy = nps < PROMOTER_NPS
        low = np.clip((PROMOTER_NPS - nps.astype(np.float64)) / PROMOTER_NPS, 0, 1)
        promised = np.where(consultant >= 0, doc_a["over_promise"][np.maximum(consultant, 0)], 0.0)
        p = {
            "result": np.where(z < -1, 0.7, 0.1),
            "aftercare": np.where(complication, 0.8, 0.03),
            "price": np.clip(0.08 + doc_a["over_treatment"][d], 0, 0.8),
            "explanation": np.clip(0.05 + 0.3 * promised, 0, 0.6),
            "waiting": 0.08 + 0.25 * low,
            "staff": 0.03 + 0.2 * low,
        }
        out = np.zeros(k, dtype=np.int16)
        for bit, key in enumerate(TAGS):
            out |= ((unhappy & (rng.random(k) < p[key])).astype(np.int16) << bit).astype(np.int16)
        return out

    def _refer(self, bk: Booked, promoters: np.ndarray) -> None:
        """A promoter brings a friend 1-8 weeks later (a referral contact in that month)."""
        w = self.w
        cal = w.cal
        rday = bk.day[promoters] + w.rng.integers(7, 61, promoters.size).astype(np.int32)
        inside = rday < cal.n_days
        rday, rp = rday[inside], bk.pidx[promoters][inside]
        months = cal.month_of_day[rday]
        for mm in np.unique(months):
            sel = months == mm
            w.referrals[int(mm)].append({"referrer": rp[sel], "day": rday[sel]})
