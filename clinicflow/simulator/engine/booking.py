"""Booking: each month's visit requests are packed into the doctors' days, given a status (done,
no-show or cancelled up to now; arrived while under way; booked or confirmed after now) and
written as appointments; past visits then go through payments, consultations, surveys, loyalty
and what follows each visit."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from clinicflow.simulator.engine.batches import Booked
from clinicflow.simulator.engine.episodes import Episodes
from clinicflow.simulator.engine.loyalty import Loyalty
from clinicflow.simulator.engine.recall import Recall
from clinicflow.simulator.engine.setup import (
    KIND_COURSE,
    KIND_FIRST,
    ST_ARRIVED,
    ST_BOOKED,
    ST_CANCELLED,
    ST_CONFIRMED,
    ST_DONE,
    ST_NO_SHOW,
)
from clinicflow.simulator.engine.staff import Staff
from clinicflow.simulator.engine.state import Batch, World, concat, take
from clinicflow.simulator.engine.visits import Visits

MAX_BATCHES = 400  # per month: requests re-queued into the month they were booked in
FUTURE_BOOKED_SHARE = 0.6  # visits beyond today: booked (the rest confirmed)
LATE_S = 24 * 3600  # the booking app's default cancellation cut-off: later cancellations are late
HOLDING = (ST_BOOKED, ST_CONFIRMED, ST_ARRIVED, ST_DONE)  # statuses that hold the doctor's time


class Booking:
    def __init__(self, world: World, staff: Staff, episodes: Episodes, recall: Recall) -> None:
        self.w = world
        self.staff = staff
        self.episodes = episodes
        self.recall = recall
        self.visits = Visits(world, staff, episodes.new)
        self.loyalty = Loyalty(world)
        world.tally.doc_booked_min = np.zeros((len(world.scn.doctors), world.cal.total_days), dtype=np.int32)
        # requests packed into a later month: (requests, day, start minute) by that month
        self.placed: dict[int, list[tuple[Batch, np.ndarray, np.ndarray]]] = defaultdict(list)

    def month(self, m: int, *, future: bool) -> None:
        """Book month m's requests (``future``: the horizon beyond today, statuses only): first
        those placed into this month earlier, then the month's own."""
        for _ in range(MAX_BATCHES):
            held = self.placed.pop(m, [])
            if held:
                req = concat([h[0] for h in held])
                day, start_min = np.concatenate([h[1] for h in held]), np.concatenate([h[2] for h in held])
                self._settle(req, day, start_min, future)
            parts = self.w.pending.pop(m, [])
            if parts:
                self._book(concat(parts), m, future=future)
            elif not held:
                return

    def _book(self, req: Batch, m: int, *, future: bool) -> None:
        placed = self._place(req, m)
        if placed is not None:
            self._settle(*placed, future)

    def _settle(self, req: Batch, day: np.ndarray, start_min: np.ndarray, future: bool) -> None:
        """The appointments of placed requests, and (up to now) what follows each visit."""
        bk = self._appointments(req, day, start_min, future=future)
        self.recall.visit_booked(req["recall"], day)
        if future:
            return
        settled = bk.status >= ST_DONE  # done, no-show, cancelled; later today's are still open
        if not settled.all():
            bk = bk.subset(settled)
            req = bk.req
            if bk.n == 0:
                return
        di, paid_at = self.visits.payments(bk)
        same_day = self.visits.first_visits(bk)
        if same_day is not None and same_day[1].size:  # placed in the first visit's reserved time
            for mm in np.unique(self.w.cal.month_of_day[same_day[1]]):
                sel = self.w.cal.month_of_day[same_day[1]] == mm
                self.placed[int(mm)].append((take(same_day[0], sel), same_day[1][sel], same_day[2][sel]))
        self.visits.outcomes(bk)
        self.loyalty.points(bk, di, paid_at)
        # treatment episodes: follow-ups, memberships, next sessions
        es = np.flatnonzero(bk.done & (req["kind"] == KIND_COURSE) & (req["sess"] == 1))
        if es.size:
            self.episodes.followups(bk, es)
            self.loyalty.memberships(bk, es)
        self.episodes.after(bk)

    def _place(self, req: Batch, m: int) -> tuple[Batch, np.ndarray, np.ndarray] | None:
        """Pack the requests; those that found no slot are dropped, those pushed past the month go
        to the next month's bucket. Returns the month's requests with their day and start minute."""
        w = self.w
        ok, day, start_min = self.staff.pack(req)
        if (~ok).any():
            w.tally.capacity_dropped += int((~ok).sum())
            w.pat["pending"][req["patient"][~ok]] = False
        req = take(req, ok)
        day, start_min = day[ok], start_min[ok]
        months = w.cal.month_of_day[day]
        later = months > m
        if later.any():
            # kept for their month with the slot found here (reserved: ``used`` only grows), so
            # nothing is booked on top of them and they do not take a second slot
            for mm in np.unique(months[later]):
                sel = months == mm
                self.placed[int(mm)].append((take(req, sel), day[sel], start_min[sel]))
            keep = ~later
            req, day, start_min = take(req, keep), day[keep], start_min[keep]
        if day.size == 0:
            return None
        return req, day, start_min

    def _status(
        self, is_first: np.ndarray, start: np.ndarray, end: np.ndarray, *, future: bool
    ) -> np.ndarray:
        """Done, no-show or cancelled up to now; a visit under way has arrived; later ones (and the
        horizon's) are booked or confirmed."""
        w = self.w
        rng, ap = w.rng, w.scn.appointments
        n = is_first.size
        u = rng.random(n)
        ns = np.where(is_first, ap["first_visit_no_show"], ap["no_show"])
        cancel_p = ap["cancelled"]
        status = np.where(u < ns, ST_NO_SHOW, np.where(u < ns + cancel_p, ST_CANCELLED, ST_DONE)).astype(
            np.int8
        )
        if future:
            status = np.where(rng.random(n) < FUTURE_BOOKED_SHARE, ST_BOOKED, ST_CONFIRMED).astype(np.int8)
        else:
            later = start > w.now
            if later.any():
                k = int(later.sum())
                status[later] = np.where(rng.random(k) < FUTURE_BOOKED_SHARE, ST_BOOKED, ST_CONFIRMED)
            status[(status == ST_DONE) & (end > w.now)] = ST_ARRIVED
            status[(status == ST_NO_SHOW) & (end > w.now)] = ST_CONFIRMED  # not marked before it ends
        np.add.at(w.tally.appt_status, (is_first.astype(np.int64), status.astype(np.int64)), 1)
        return status

    def _cancellations(
        self, status: np.ndarray, start: np.ndarray, created: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """When each cancelled visit was cancelled: late (1-23 hours before the start) with the
        planted probability, else 1-7 days before — never before it was booked, so a visit booked
        less than a day ahead can only be cancelled late (the others are drawn late as often as the
        planted share of all cancellations so far still needs); late as the booking app marks it
        (start − cancelled at < 24 h)."""
        w = self.w
        cancelled_at = np.zeros(status.size, dtype=np.int64)
        ci = np.flatnonzero(status == ST_CANCELLED)
        if ci.size:
            rng = w.rng
            forced = start[ci] - created[ci] < LATE_S + 3600
            # late ones still due to reach the planted share of all cancellations so far
            due = w.scn.appointments["late_cancellation"] * int(w.tally.appt_status[:, ST_CANCELLED].sum())
            free = ci.size - int(forced.sum())
            q = min(max((due - w.tally.late_cancelled - int(forced.sum())) / free, 0.0), 1.0) if free else 0.0
            planted_late = forced | (rng.random(ci.size) < q)
            lead = np.where(
                planted_late, rng.integers(3600, LATE_S, ci.size), rng.integers(LATE_S, 7 * LATE_S, ci.size)
            )
            cancelled_at[ci] = np.maximum(start[ci] - lead, created[ci] + 60)
        late = (status == ST_CANCELLED) & (start - cancelled_at < LATE_S)
        w.tally.late_cancelled += int(late.sum())
        return cancelled_at, late

    def _appointments(self, req: Batch, day: np.ndarray, start_min: np.ndarray, *, future: bool) -> Booked:
        w = self.w
        scn, cal, st = w.scn, w.cal, w.st
        doc = req["doctor"].astype(np.int64)
        b = st.doc_branch[doc]
        svc = req["service"].astype(np.int64)
        slot = scn.schedule["slot_minutes"]
        dur = (np.ceil(st.svc_duration[svc] / slot) * slot).astype(np.int64)
        start = w.day_seconds(b, day) + (st.doc_start_min[doc] + start_min).astype(np.int64) * 60
        end = start + dur * 60
        is_first = req["kind"] == KIND_FIRST
        created = np.minimum(np.minimum(req["created"], start - 600), w.now)
        status = self._status(is_first, start, end, future=future)
        cancelled_at, late = self._cancellations(status, start, created)
        held = np.isin(status, HOLDING)
        np.add.at(w.tally.doc_booked_min, (doc[held], day[held]), dur[held].astype(np.int32))
        price = np.where(
            is_first,
            st.first_price_minor_by_month[np.minimum(cal.month_of_day[day], scn.months - 1)],
            st.svc_price_minor[svc],
        )
        a_ids = w.ids(start)
        w.emit(
            "appointments",
            {
                "id": a_ids,
                "patient": req["patient"],
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
                "cancelled_at": cancelled_at,
                "late_cancel": late,
                "kind": req["kind"],
                "recall": req["recall"] >= 0,
            },
        )
        return Booked(
            req=req,
            day=day,
            start=start,
            end=end,
            doc=doc,
            branch=b,
            svc=svc,
            is_first=is_first,
            status=status,
            price=price,
            a_ids=a_ids,
            pidx=req["patient"],
        )
