"""Recall campaigns: every few months the clinic calls lapsed patients who agreed to marketing;
some book within a week, some within two months (the outcome; the visit follows within days). The
contacts are written at the end, with the outcome each one had."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from clinicflow.simulator.engine.state import Batch, NewEpisode, World, concat

Soonest = Callable[[np.ndarray, np.ndarray], np.ndarray]

OUTCOMES = ("none", "week", "two_months")  # a contact's outcome code indexes these
NO_RETURN, RETURN_WEEK, RETURN_TWO_MONTHS = range(len(OUTCOMES))


class Recall:
    def __init__(self, world: World, new_episode: NewEpisode, soonest: Soonest | None = None) -> None:
        self.w = world
        self.new_episode = new_episode
        self.soonest = soonest
        self.rows: list[Batch] = []
        self.contact_day = np.zeros(0, dtype=np.int32)
        self.returned = np.zeros(0, dtype=np.int32)  # day of the visit the call brought, or -1
        self.booked_day = np.zeros(0, dtype=np.int32)  # day the patient booked after the call, or -1
        self.n = 0
        self.outcome = np.zeros(0, dtype=np.int8)
        # the campaigns' reach and response, moved by [[changes]] (recall.contact_share, recall.response)
        self.reach = float(world.scn.recall["contact_share"])
        self.week = float(world.scn.recall["return_week"])
        self.two_months = float(world.scn.recall["return_two_months"])

    def campaign(self, m: int) -> None:
        w = self.w
        scn, cal, rng, pat = w.scn, w.cal, w.rng, w.pat
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
        cand = cand[rng.random(cand.size) < self.reach]
        n = cand.size
        if n == 0:
            return
        u = rng.random(n)
        week = u < self.week
        later = ~week & (u < self.week + self.two_months)
        # the response is the booking (seed 004, issue #15: "booked within 7 and 60 days"): the
        # week's returners book within six days of the call, the later ones on day 8-59; the visit
        # is wanted one to five days after the booking
        offset = np.where(week, rng.integers(0, 7, n), rng.integers(8, 60, n))
        b = pat["branch"][cand]
        contact_day = np.full(n, t0, dtype=np.int32) + rng.integers(0, 3, n).astype(np.int32)
        at = w.day_seconds(b, contact_day) + rng.integers(10 * 3600, 18 * 3600, n)
        made = at <= w.now  # the campaign's calls after now are not made yet
        if not made.all():
            cand, week, later, offset = cand[made], week[made], later[made], offset[made]
            b, contact_day, at = b[made], contact_day[made], at[made]
            n = cand.size
            if n == 0:
                return
        rec_idx = np.arange(self.n, self.n + n, dtype=np.int64)
        self.n += n
        self.rows.append(
            {
                "id": w.ids(at),
                "patient": cand,
                "campaign_month": np.full(n, m, dtype=np.int32),
                "at": at,
                "day": contact_day,
            }
        )
        self.contact_day = np.concatenate([self.contact_day, contact_day])
        self.returned = np.concatenate([self.returned, np.full(n, -1, dtype=np.int32)])
        book_day = contact_day + offset.astype(np.int32)
        booked_at = np.maximum(w.day_seconds(b, book_day) + rng.integers(9 * 3600, 20 * 3600, n), at + 600)
        self.booked_day = np.concatenate([self.booked_day, np.where(week | later, book_day, -1)])
        w.tally.recall_contacted += n
        ret = (week | later) & (booked_at <= w.now)  # a booking after now is not made yet
        r = cand[ret]
        if r.size:
            docs = pat["first_doctor"][r]
            want = book_day[ret] + rng.integers(1, 6, r.size).astype(np.int32)
            wk = week[ret]
            if self.soonest is not None and wk.any():
                docs = docs.copy()
                docs[wk] = self.soonest(docs[wk], want[wk])
            req = self.new_episode(r, docs, want, booked_at[ret])
            req["recall"] = rec_idx[ret]
            w.queue(req)

    def visit_booked(self, recall: np.ndarray, day: np.ndarray) -> None:
        """Record the day of the visits that recall calls brought (``recall`` = contact index or -1)."""
        if recall.size:
            rr = recall >= 0
            if rr.any():
                self.returned[recall[rr]] = day[rr]

    def emit(self) -> None:
        if not self.rows:
            return
        rows = concat(self.rows)
        ret_day = self.returned
        # the outcome is when she booked (a visit that was never placed is no return)
        delta = np.where((ret_day >= 0) & (self.booked_day >= 0), self.booked_day - self.contact_day, -1)
        outcome = np.where(
            (delta >= 0) & (delta <= 7),
            RETURN_WEEK,
            np.where((delta > 7) & (delta <= 60), RETURN_TWO_MONTHS, NO_RETURN),
        ).astype(np.int8)
        rows["outcome"] = outcome
        rows["returned_day"] = ret_day
        self.outcome = outcome
        self.w.emit("recall_contacts", rows)
