"""Staff and schedule: the doctors' and administrators' planted traits, who works where, and the
day packer that books each visit into its doctor's first free slot."""

from __future__ import annotations

import numpy as np

from clinicflow.simulator.engine.setup import KIND_FIRST
from clinicflow.simulator.engine.state import Batch, World
from clinicflow.simulator.scenario import CATEGORIES

PACK_ROUNDS = 90  # days a request may be pushed forward while its doctor is fully booked


def _weights(values: list[float]) -> np.ndarray:
    w = np.array(values, dtype=np.float64)
    out: np.ndarray = w / w.sum() if w.sum() > 0 else np.full(len(w), 1 / len(w))
    return out


class Staff:
    def __init__(self, world: World) -> None:
        self.w = world
        scn, cal, st = world.scn, world.cal, world.st
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
        # the front desk books a first patient where there is room: by the doctor's weight × weekly
        # minutes / the minutes a first patient of theirs is expected to take, so that the weight
        # plants the doctor's relative load (and no doctor sits idle)
        share = self.first_patient_share()
        self.branch_doc_p = [_weights(share[self.branch_docs[b]].tolist()) for b in range(B)]
        # a first visit is booked with time after the consultation for a same-day first procedure:
        # the longest of the doctor's services that may be done the same day (0: none)
        same_day = scn.appointments["same_day_procedure"]
        slot = scn.schedule["slot_minutes"]
        self.same_day_reserve = np.zeros(D, dtype=np.int32)
        for d in range(D):
            svc = [int(x) for x in st.doc_services[d] if same_day[CATEGORIES[st.svc_category[x]]] > 0]
            if svc:
                self.same_day_reserve[d] = int(np.ceil(st.svc_duration[svc] / slot).max()) * slot
        self.branch_adms = [np.flatnonzero(st.adm_branch == b) for b in range(B)]
        self.branch_adm_p = [
            _weights([scn.administrators[a].weight for a in self.branch_adms[b]]) for b in range(B)
        ]

    def first_patient_share(self) -> np.ndarray:
        """Each doctor's relative share of first patients: weight × weekly working minutes / the
        expected booked minutes per first patient (the consultation, then with the doctor's
        conversion one episode of their services — the sessions their course completion plans and
        the extra services — and the returns their repeat rate brings)."""
        w = self.w
        scn, st = w.scn, w.st
        slot = scn.schedule["slot_minutes"]
        dur = np.ceil(st.svc_duration / slot) * slot
        out = np.zeros(len(scn.doctors))
        for d, doc in enumerate(scn.doctors):
            svc, p = st.doc_services[d], st.doc_service_p[d]
            comp = min(doc.course_completion, 0.999)
            sessions = (1 - comp ** st.svc_course[svc].astype(np.float64)) / (1 - comp)
            follow = np.array(
                [dur[st.svc_follow[s]].mean() if st.svc_follow[s].size else dur[s] for s in svc]
            )
            episode = float((p * (dur[svc] * sessions + doc.over_treatment * follow)).sum())
            minutes = dur[st.first_service] + doc.conversion * episode * (1 + doc.repeat_rate)
            weekly = float(st.doc_weekdays[d].sum() * (st.doc_end_min[d] - st.doc_start_min[d]))
            out[d] = doc.weight * weekly / minutes
        return out

    def administrators(self, out: np.ndarray, branch: np.ndarray) -> np.ndarray:
        """Who answers: an administrator of the branch on duty, by the administrators' weights."""
        return self.w.assign_by_branch(out, branch, self.branch_adms, self.branch_adm_p)

    def doctors(self, out: np.ndarray, branch: np.ndarray) -> np.ndarray:
        """The doctor of a first visit: one of the branch's doctors, by the doctors' weights."""
        return self.w.assign_by_branch(out, branch, self.branch_docs, self.branch_doc_p)

    def score(self, adm: np.ndarray) -> np.ndarray:
        """A call's checklist score around the administrator's planted quality (0-100)."""
        out: np.ndarray = np.clip(np.round(self.w.rng.normal(self.adm_quality[adm], 8.0)), 0, 100).astype(
            np.int16
        )
        return out

    def soonest(self, doctors: np.ndarray, day: np.ndarray, window: int = 7, need: int = 60) -> np.ndarray:
        """For each wanted (doctor, day): the doctor of the same branch and specialty with the earliest
        working day in ``[day, day + window)`` that still has ``need`` free minutes (the front desk
        calling a lapsed patient offers the soonest slot, not only her first doctor's); the doctor
        given where none has room in the window."""
        st, T = self.w.st, self.w.cal.total_days
        out = doctors.copy()
        for d0, d_want in {(int(a), int(b)) for a, b in zip(doctors, day, strict=True)}:
            peers = np.flatnonzero(
                (st.doc_branch == st.doc_branch[d0]) & (st.doc_specialty == st.doc_specialty[d0])
            )
            days = np.arange(d_want, min(d_want + window, T))
            if days.size == 0 or peers.size < 2:
                continue
            works = self.next_work[np.ix_(peers, days)] == days[None, :]
            room = works & (self.day_len[peers][:, None] - self.used[np.ix_(peers, days)] >= need)
            first = np.where(room.any(axis=1), room.argmax(axis=1), window)
            if first.min() >= window:
                continue
            best = peers[first == first.min()]
            sel = (doctors == d0) & (day == d_want)
            out[sel] = best if best.size == 1 else self.w.rng.choice(best, size=int(sel.sum()))
        return out

    def pack(self, req: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Book each request into its doctor's first free slot on or after the wanted day: on the
        doctor's working day, within the shift, after what is already booked that day (so no
        doctor and — one doctor per room and shift — no room is ever double-booked)."""
        w = self.w
        rng, st, cal = w.rng, w.st, w.cal
        slot = w.scn.schedule["slot_minutes"]
        gp = np.array(w.scn.schedule["gap_probabilities"])
        gp = gp / gp.sum()
        n = req["day"].size
        dur = (np.ceil(st.svc_duration[req["service"]] / slot) * slot).astype(np.int32)
        dur += np.where(req["kind"] == KIND_FIRST, self.same_day_reserve[req["doctor"]], 0).astype(np.int32)
        out_day = np.full(n, -1, dtype=np.int32)
        out_start = np.zeros(n, dtype=np.int32)
        T = cal.total_days
        doc = req["doctor"].astype(np.int64)
        cur = self.next_work[doc, np.minimum(req["day"], T)]
        todo = np.arange(n)
        for _ in range(PACK_ROUNDS):
            todo = todo[cur[todo] < T]
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
