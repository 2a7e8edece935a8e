"""The simulation: month by month, vectorised with numpy, pure (no Django).

``Simulation(scenario, seed, unique_window_days=...).run(sink)`` calls ``sink(table, columns)`` with
column dicts of numpy arrays (or lists of strings) for each generated chunk, in a fixed order, so the
same seed and scenario give the same rows. Static structure (services, rooms, doctors, …) is in
``Simulation.st``; the planted and realised figures are collected in ``Simulation.tally`` and turned
into the truth document by :mod:`clinicflow.simulator.truth`.

Each stage is its own collaborator over the shared :class:`~.state.World`: staff and schedule
(:mod:`.staff`), demand and spend (:mod:`.demand`), contacts, calls and new patients
(:mod:`.contacts`, :mod:`.calls`, :mod:`.registration`), booking and past visits (:mod:`.booking`,
:mod:`.visits`), treatment episodes (:mod:`.episodes`), loyalty (:mod:`.loyalty`) and recall
(:mod:`.recall`). The order in which they draw from the random streams is part of the output.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from clinicflow.simulator.engine.booking import Booking
from clinicflow.simulator.engine.calendar import Calendar
from clinicflow.simulator.engine.campaigns import Campaigns
from clinicflow.simulator.engine.contacts import Acquisition
from clinicflow.simulator.engine.demand import Demand
from clinicflow.simulator.engine.episodes import Episodes
from clinicflow.simulator.engine.people import PhoneSpace
from clinicflow.simulator.engine.recall import Recall
from clinicflow.simulator.engine.setup import Structure
from clinicflow.simulator.engine.staff import Staff
from clinicflow.simulator.engine.state import DAY_S, Columns, Patients, Sink, World
from clinicflow.simulator.engine.tally import Tally
from clinicflow.simulator.scenario import Scenario
from clinicflow.simulator.scenario.changes import apply_month, hours_exceptions

__all__ = ["DAY_S", "Columns", "Simulation", "Sink"]

Progress = Callable[[str, int], None]


class Simulation:
    def __init__(
        self,
        scn: Scenario,
        seed: int,
        *,
        unique_window_days: int,
        horizon_days: int = 30,
        id_salt: int = 0,
        now: int | None = None,
    ) -> None:
        """``unique_window_days``: the product's unique-call window (repeat calls of a contact fall
        inside it). ``id_salt`` (e.g. a hash of the organisation's slug) makes the ids of one seed
        differ between organisations — ids are global primary keys — without changing the data. ``now``
        (UTC seconds, default: the end of the last simulated day) is the present moment: later
        visits are booked or confirmed, and no call, session, payment or answer comes after it."""
        self.world = w = World(
            scn,
            seed,
            horizon_days=horizon_days,
            id_salt=id_salt,
            unique_window_days=unique_window_days,
            now=now,
        )
        self.staff = Staff(w)
        self.demand = Demand(w, self.staff)
        ms = int(w.cal.day_epoch[0]) * DAY_S
        st = w.st
        self.setup_ids = {
            "service": w.ids(np.full(len(scn.services), ms)),
            "room": w.ids(np.full(len(st.room_branch), ms)),
            "doctor": w.ids(np.full(len(scn.doctors), ms)),
            "channel": w.ids(np.full(len(scn.channels), ms)),
            "campaign": w.ids(np.full(len(st.campaign_branch), ms)),
            "number": w.ids(np.full(len(st.number_branch), ms)),
        }
        self.episodes = Episodes(w, self.staff)
        self.recall = Recall(w, self.episodes.new, self.staff.soonest)
        self.acquisition = Acquisition(w, self.staff, self.demand)
        self.booking = Booking(w, self.staff, self.episodes, self.recall)
        self.campaigns = Campaigns(w, self.episodes.new, self.staff.soonest)  # marketing (issue #19)

    # the shared state, for the writers and the truth
    @property
    def scn(self) -> Scenario:
        return self.world.scn

    @property
    def seed(self) -> int:
        return self.world.seed

    @property
    def cal(self) -> Calendar:
        return self.world.cal

    @property
    def st(self) -> Structure:
        return self.world.st

    @property
    def pat(self) -> Patients:
        return self.world.pat

    @property
    def tally(self) -> Tally:
        return self.world.tally

    @property
    def phones(self) -> PhoneSpace:
        return self.world.phones

    @property
    def id_rng(self) -> np.random.Generator:
        return self.world.id_rng

    @property
    def adm_conv(self) -> np.ndarray:
        return self.staff.adm_conv

    @property
    def scale(self) -> float:
        return self.demand.scale

    @property
    def recall_outcome(self) -> np.ndarray:
        return self.recall.outcome

    def expected_patients(self) -> float:
        return self.demand.expected_patients()

    def run(self, sink: Sink, progress: Progress | None = None) -> Tally:
        w = self.world
        w.sink = sink
        months = w.scn.months
        self._emit_prices()
        for m in range(months):
            # [[changes]]: an administrator's conversion, a doctor's hours, the repeat rates and the
            # recall campaigns from month m
            apply_month(w.scn.changes, m, self.staff, w.st.doc_end_min - w.st.doc_start_min, self.recall)
            self.recall.campaign(m)
            self.campaigns.month(m)
            self.acquisition.month(m)
            self.demand.emit_spend(m)
            self.booking.month(m, future=False)
            if progress:
                progress(f"month {m + 1}/{months}", sum(w.tally.rows.values()))
        self.booking.loyalty.finish()  # memberships cancelled in the last month (loyalty_use)
        self.booking.month(months, future=True)
        self.recall.emit()
        # the capacity-aware campaign fills next week's free time once everything else is booked
        self.campaigns.fill_free_time(self.staff, lambda r, d, s: self.booking._settle(r, d, s, True))
        if progress:
            progress("done", sum(w.tally.rows.values()))
        return w.tally

    def _emit_prices(self) -> None:
        """The first-visit price schedule (the months inside the run)."""
        w = self.world
        scn = w.scn
        price_rows = [(month, price) for month, price in scn.price_schedule if month < scn.months]
        days = np.array([w.cal.month_start[m] for m, _ in price_rows], dtype=np.int32)
        price = np.round(np.array([p for _, p in price_rows]) * scn.price_factor * 100).astype(np.int64)
        w.emit(
            "first_visit_prices", {"id": w.ids(w.cal.day_epoch[days] * DAY_S), "day": days, "price": price}
        )
        # [[changes]] of a doctor's hours: the written schedule agrees with the engine's bookable minutes
        hours = hours_exceptions(scn, w.cal, w.st)
        if hours:
            w.emit("schedule_exceptions", {"id": w.ids(w.cal.day_epoch[hours["day"]] * DAY_S), **hours})
