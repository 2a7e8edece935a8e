"""Treatment episodes: a course of sessions planned by the doctor, its follow-ups, what comes after
each visit (a rebooking of a missed visit, the next session, over-treatment, a new episode)."""

from __future__ import annotations

import numpy as np

from clinicflow.simulator.engine.batches import Booked
from clinicflow.simulator.engine.setup import KIND_COURSE, KIND_FIRST, KIND_FOLLOW, ST_DONE
from clinicflow.simulator.engine.staff import Staff
from clinicflow.simulator.engine.state import DAY_S, Batch, World, take

MAX_RESCHEDULES = 3
RETURN_OBSERVED_DAYS = 200  # an episode's return is counted when it ended this long before the end


class Episodes:
    def __init__(self, world: World, staff: Staff) -> None:
        self.w = world
        self.staff = staff

    def new(
        self,
        patients: np.ndarray,
        docs: np.ndarray,
        day: np.ndarray,
        created: np.ndarray,
        episode: np.ndarray | int = 1,
    ) -> Batch:
        """The first session of a new episode: a service the doctor performs, the sessions the
        patient will actually come to, and the extra services the doctor will add."""
        w = self.w
        rng, st, doc_a = w.rng, w.st, self.staff.doc_a
        n = patients.size
        svc = np.zeros(n, dtype=np.int16)
        for d in np.unique(docs):
            sel = docs == d
            svc[sel] = rng.choice(st.doc_services[d], size=int(sel.sum()), p=st.doc_service_p[d])
        course = st.svc_course[svc].astype(np.int64)
        # the doctor's completion made the patient's own (scenario [patients.heterogeneity])
        comp = w.stay(doc_a["completion"][docs], patients)
        # sessions actually planned: 1 + consecutive continuations (each with p = completion)
        extra = np.minimum(rng.geometric(1 - np.clip(comp, 0, 0.999)) - 1, course - 1)
        n_sess = 1 + extra
        ot = rng.poisson(doc_a["over_treatment"][docs])
        t = w.tally
        np.add.at(t.episodes, docs, 1)
        np.add.at(t.course_planned, docs, n_sess)
        np.add.at(t.course_sessions_possible, docs, course)
        np.add.at(t.extra_services, docs, ot)
        return w.request(
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

    def followups(self, bk: Booked, es: np.ndarray) -> None:
        """Follow-up calls after the first session of each episode (``es``)."""
        w = self.w
        fdays = np.array(w.scn.aftercare["followup_days"], dtype=np.int64)
        if not fdays.size:
            return
        k = fdays.size
        src = np.repeat(es, k)
        due = bk.end[src] + np.tile(fdays, es.size) * DAY_S
        due_by_now = due <= w.now  # a follow-up not due yet is open
        fdone = (w.rng.random(src.size) < w.scn.aftercare["followup_done"]) & due_by_now
        w.tally.followups += int(due_by_now.sum())
        w.tally.followups_done += int(fdone.sum())
        w.emit(
            "followups",
            {
                "id": w.ids(bk.end[src]),
                "appointment": bk.a_ids[src],
                "patient": bk.pidx[src],
                "doctor": bk.doc[src].astype(np.int16),
                "branch": bk.branch[src],
                "due": due,
                "done": fdone,
                "open": ~due_by_now,
                "day_offset": np.tile(fdays, es.size).astype(np.int16),
            },
        )

    def after(self, bk: Booked) -> None:
        """Queue what follows each past visit."""
        req, day, end = bk.req, bk.day, bk.end
        done = bk.status == ST_DONE
        kind = req["kind"]
        parts: list[Batch] = []
        resched = self._rebook(bk, done, parts)
        gave_up = ~done & ~resched
        self.w.pat["pending"][req["patient"][gave_up & (kind == KIND_FIRST)]] = False
        self._continue_course(bk, done, parts)
        # over-treatment: extra follow-on services after the course
        after_course = (
            done & (((kind == KIND_COURSE) & (req["sess"] >= req["n_sess"])) | (kind == KIND_FOLLOW))
        ) | (gave_up & (kind != KIND_FIRST))
        extra = after_course & (req["ot_left"] > 0) & done
        if extra.any():
            parts.append(self._extra_services(take(req, extra), day[extra], end[extra]))
        self._episode_over(bk, after_course & ~extra, parts)
        for p in parts:
            self.w.queue(p)

    def _rebook(self, bk: Booked, done: np.ndarray, parts: list[Batch]) -> np.ndarray:
        """Missed visits: rebooked (at most MAX_RESCHEDULES times) or given up."""
        w, req = self.w, bk.req
        n = bk.day.size
        resched: np.ndarray = (
            ~done & (w.rng.random(n) < w.scn.appointments["reschedule"]) & (req["resched"] < MAX_RESCHEDULES)
        )
        if resched.any():
            r = take(req, resched)
            r["day"] = bk.day[resched] + w.rng.integers(2, 11, int(resched.sum())).astype(np.int32)
            r["created"] = bk.end[resched] + 3600
            r["resched"] = r["resched"] + 1
            r["recall"] = np.full(r["day"].size, -1, dtype=np.int64)
            parts.append(r)
        return resched

    def _continue_course(self, bk: Booked, done: np.ndarray, parts: list[Batch]) -> None:
        """Course sessions continue after the service's interval (± 2 days)."""
        w, req = self.w, bk.req
        cont = done & (req["kind"] == KIND_COURSE) & (req["sess"] < req["n_sess"])
        if not cont.any():
            return
        r = take(req, cont)
        iv = w.st.svc_interval[r["service"]].astype(np.int32)
        r["day"] = bk.day[cont] + np.maximum(iv + w.rng.integers(-2, 3, iv.size).astype(np.int32), 1)
        r["sess"] = r["sess"] + 1
        r["created"] = bk.end[cont] + 600
        r["recall"] = np.full(r["day"].size, -1, dtype=np.int64)
        parts.append(r)

    def _extra_services(self, r: Batch, day: np.ndarray, end: np.ndarray) -> Batch:
        """A follow-on service (or another of the doctor's services) the doctor adds."""
        w = self.w
        rng, st = w.rng, w.st
        svc = r["service"].copy()
        for i in range(svc.size):
            fo = st.svc_follow[int(svc[i])]
            if fo.size:
                svc[i] = fo[int(rng.integers(0, fo.size))]
            else:
                opts = st.doc_services[int(r["doctor"][i])]
                svc[i] = opts[int(rng.integers(0, opts.size))]
        r["service"] = svc
        r["kind"] = np.full(svc.size, KIND_FOLLOW, dtype=np.int8)
        r["ot_left"] = r["ot_left"] - 1
        r["day"] = day + rng.integers(7, 22, svc.size).astype(np.int32)
        r["created"] = end + 600
        r["recall"] = np.full(svc.size, -1, dtype=np.int64)
        return r

    def _episode_over(self, bk: Booked, ep_end: np.ndarray, parts: list[Batch]) -> None:
        """The patient returns for a new episode with the doctor's repeat rate."""
        w, req = self.w, bk.req
        rng, t = w.rng, w.tally
        ei = np.flatnonzero(ep_end)
        if not ei.size:
            return
        d = req["doctor"].astype(np.int64)[ei]
        day, end = bk.day[ei], bk.end[ei]
        rp = req["patient"][ei]
        # the doctor's repeat rate made the patient's own; the tally counts first episodes, whose
        # patients are not yet selected by their dropout
        ret = rng.random(ei.size) < w.stay(self.staff.doc_a["repeat"][d], rp)
        observable = (day <= w.cal.n_days - 1 - RETURN_OBSERVED_DAYS) & (req["episode"][ei] == 1)
        np.add.at(t.episode_ends, d[observable], 1)
        np.add.at(t.episode_returns, d[observable & ret], 1)
        gap = self._gap(rp)
        if ret.any():
            parts.append(
                self.new(
                    rp[ret],
                    d[ret],
                    day[ret] + np.maximum(gap[ret], 7),
                    end[ret] + 3600,
                    episode=req["episode"][ei][ret] + 1,
                )
            )
        w.pat["pending"][rp[~ret]] = False
        w.pat["treated"][rp] = True

    def _gap(self, patients: np.ndarray) -> np.ndarray:
        """Days before a returning patient's new episode: exponential with her own mean 1/λ weeks (at
        least 7 days is applied by the caller); without heterogeneity the planted repeat_gap_days."""
        w = self.w
        if w.scn.heterogeneity.enabled:
            weeks = w.rng.exponential(1.0, patients.size) / w.pat["rate"][patients]
            days = np.minimum(weeks * 7.0, 10 * 365)
        else:
            days = np.minimum(w.rng.gamma(2.0, w.scn.aftercare["repeat_gap_days"] / 2.0, patients.size), 180)
        gap: np.ndarray = days.astype(np.int32)
        return gap
