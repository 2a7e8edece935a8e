"""What every stage of the simulation shares: the scenario, calendar and structure, the random
streams, the patients' state, the tally, the queues of visit requests, and the helpers that make ids
and hand rows to the sink (:class:`World`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from clinicflow.simulator.engine.calendar import Calendar, build_calendar
from clinicflow.simulator.engine.ids import uuid7_array
from clinicflow.simulator.engine.people import PhoneSpace
from clinicflow.simulator.engine.setup import Structure, build_structure
from clinicflow.simulator.engine.tally import Tally
from clinicflow.simulator.scenario import Scenario

Columns = dict[str, Any]
Sink = Callable[[str, Columns], None]
Batch = dict[str, np.ndarray]
# starts treatment episodes: (patients, doctors, wanted day, created) -> visit requests
NewEpisode = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], Batch]
DAY_S = 86_400
# a visit request: who, with whom, what, which session of which episode, from which day
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
    # the patient's own return rate λ (per week) and dropout propensity p (scenario: [patients.heterogeneity])
    "rate": np.float64,
    "dropout": np.float64,
}
UNSET_MINUS_ONE = ("first_doctor", "last_visit", "first_done")


def concat(parts: list[Batch]) -> Batch:
    if len(parts) == 1:
        return parts[0]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def take(d: Batch, mask: np.ndarray) -> Batch:
    return {k: v[mask] for k, v in d.items()}


def _discard(_table: str, _cols: Columns) -> None:
    return None


class Patients:
    """Growable per-patient state (index = patient number in this run)."""

    def __init__(self, capacity: int = 4096, rate_factor: np.ndarray | None = None) -> None:
        self.n = 0
        self.rate_factor = rate_factor  # per channel: its patients' return rate × (scenario return_factor)
        self.ids = np.zeros((capacity, 16), dtype=np.uint8)
        self.cols: dict[str, np.ndarray] = {k: np.zeros(capacity, dtype=t) for k, t in PAT_FIELDS.items()}

    def add(self, ids: np.ndarray, **values: np.ndarray) -> np.ndarray:
        k = ids.shape[0]
        if self.n + k > self.ids.shape[0]:
            self._grow(max(self.n + k, 2 * self.ids.shape[0]))
        idx = np.arange(self.n, self.n + k, dtype=np.int64)
        self.ids[idx] = ids
        if self.rate_factor is not None and "rate" in values and "channel" in values:
            values = {**values, "rate": values["rate"] * self.rate_factor[values["channel"]]}
        for name in self.cols:
            self.cols[name][idx] = values.get(name, -1 if name in UNSET_MINUS_ONE else 0)
        self.n += k
        return idx

    def _grow(self, cap: int) -> None:
        ids_new = np.zeros((cap, 16), dtype=np.uint8)
        ids_new[: self.n] = self.ids[: self.n]
        self.ids = ids_new
        for name, arr in self.cols.items():
            grown = np.zeros(cap, dtype=arr.dtype)
            grown[: self.n] = arr[: self.n]
            self.cols[name] = grown

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]


class World:
    """The shared state of one run (see :class:`~clinicflow.simulator.engine.core.Simulation` for the
    arguments)."""

    def __init__(
        self,
        scn: Scenario,
        seed: int,
        *,
        horizon_days: int,
        id_salt: int,
        unique_window_days: int,
        now: int | None = None,
    ) -> None:
        self.scn = scn
        self.seed = seed
        # a contact's repeat calls fall on the days after its first call, inside the unique-call window
        self.repeat_within_days = unique_window_days - 1
        s_model, _s_ids, s_setup = np.random.SeedSequence(seed).spawn(3)
        self.rng = np.random.Generator(np.random.PCG64(s_model))
        self.id_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, id_salt, 7])))
        setup_rng = np.random.Generator(np.random.PCG64(s_setup))
        # patients' traits (return rate, dropout) have their own stream: switching the heterogeneity
        # off leaves every other draw as it was
        self.trait_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 13])))
        self.cal: Calendar = build_calendar(scn, horizon_days)
        self.phones = PhoneSpace(scn.country, setup_rng)
        self.st: Structure = build_structure(scn, setup_rng, self.phones)
        # the present moment (UTC seconds): nothing after it is final — no call, session, payment or
        # answer, no visit done; default: the end of the last simulated day in the latest branch zone
        nb = len(scn.branches)
        last_day = np.full(nb, self.cal.n_days - 1)
        end_of_run = int(self.day_seconds(np.arange(nb), last_day).max()) + DAY_S
        self.now = end_of_run if now is None else min(int(now), end_of_run)
        self.tally = Tally(scn, scn.months)
        self.pat = Patients(rate_factor=np.array([c.return_factor for c in scn.channels], dtype=np.float64))
        # visit requests waiting for their month, and referred friends waiting for theirs
        self.pending: dict[int, list[Batch]] = defaultdict(list)
        self.referrals: dict[int, list[Batch]] = defaultdict(list)
        self.sink: Sink = _discard

    def ids(self, seconds: np.ndarray) -> np.ndarray:
        return uuid7_array(self.id_rng, np.asarray(seconds, dtype=np.int64) * 1000)

    def day_seconds(self, branch: np.ndarray, day: np.ndarray) -> np.ndarray:
        """UTC seconds of local midnight of ``day`` at ``branch``."""
        cal = self.cal
        # a day past the calendar's horizon (a recall booking two months after the last day) keeps
        # the last day's offset
        day = np.asarray(day)
        inside = np.minimum(day, cal.total_days - 1)
        midnight_utc = (cal.day_epoch[inside] + (day - inside)) * DAY_S
        out: np.ndarray = midnight_utc - cal.utc_offset_min[branch, inside].astype(np.int64) * 60
        return out

    def emit(self, table: str, cols: Columns) -> None:
        n = len(next(iter(cols.values())))
        if n == 0:
            return
        self.tally.rows[table] += n
        self.sink(table, cols)

    def month_bounds(self, m: int) -> tuple[int, int]:
        """First day and the day after the last simulated day of month ``m``."""
        cal = self.cal
        return int(cal.month_start[m]), int(min(cal.month_start[m + 1], cal.n_days))

    def stay(self, planted: np.ndarray, patients: np.ndarray) -> np.ndarray:
        """The chance that each patient stays (continues a course, comes back after an episode) where
        the doctor's planted chance is ``planted``, for her dropout propensity p (mean p̄): planted ×
        (1 − p)/(1 − p̄) when planted ≤ 1 − p̄, else 1 − (1 − planted) × p/p̄. Either lies in [0, 1]
        and averages to the planted chance over patients, and falls as p rises."""
        h = self.scn.heterogeneity
        planted = np.broadcast_to(np.asarray(planted, dtype=np.float64), patients.shape)
        if not h.enabled:
            return planted.copy()
        pbar, p = h.mean_dropout, self.pat["dropout"][patients]
        out: np.ndarray = np.where(
            planted <= 1.0 - pbar, planted * (1.0 - p) / (1.0 - pbar), 1.0 - (1.0 - planted) * p / pbar
        )
        return out

    def request(self, n: int, **values: np.ndarray | int) -> Batch:
        out = {}
        for k, t in REQ_FIELDS.items():
            v = values.get(k, -1 if k == "recall" else 0)
            out[k] = np.broadcast_to(np.asarray(v, dtype=t), (n,)).copy()
        return out

    def queue(self, req: Batch) -> None:
        """File visit requests under the month of their wanted day (beyond the horizon: dropped)."""
        if req["day"].size == 0:
            return
        cal = self.cal
        req = take(req, req["day"] < cal.total_days)
        if req["day"].size == 0:
            return
        self.pat["pending"][req["patient"]] = True
        months = cal.month_of_day[req["day"]]
        for m in np.unique(months):
            self.pending[int(m)].append(take(req, months == m))

    def assign_by_branch(
        self, out: np.ndarray, branch: np.ndarray, options: list[np.ndarray], p: list[np.ndarray]
    ) -> np.ndarray:
        """Fill ``out`` with a weighted pick among each branch's ``options`` (per branch, in order)."""
        for b in range(len(self.scn.branches)):
            sel = branch == b
            out[sel] = self.rng.choice(options[b], size=int(sel.sum()), p=p[b])
        return out
