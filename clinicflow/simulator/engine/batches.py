"""The batches the stages pass to each other: one month's contacts, one batch of booked
appointments (columns of numpy arrays, index = contact or appointment)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from clinicflow.simulator.engine.setup import ST_DONE
from clinicflow.simulator.engine.state import Batch, take

EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class Contacts:
    """One month's unique contacts, in time order (index = contact)."""

    a: int  # the month's first day and the day after its last simulated day
    z: int
    br: np.ndarray
    ch: np.ndarray
    day: np.ndarray
    referrer: np.ndarray  # the referring patient, or -1
    hour_i: np.ndarray
    at: np.ndarray
    # answering (set by Acquisition._answer)
    is_call: np.ndarray = field(default_factory=lambda: EMPTY)
    phone: np.ndarray = field(default_factory=lambda: EMPTY)
    adm: np.ndarray = field(default_factory=lambda: EMPTY)
    missed: np.ndarray = field(default_factory=lambda: EMPTY)
    cb_done: np.ndarray = field(default_factory=lambda: EMPTY)
    recovered: np.ndarray = field(default_factory=lambda: EMPTY)
    booked: np.ndarray = field(default_factory=lambda: EMPTY)
    score: np.ndarray = field(default_factory=lambda: EMPTY)
    # attribution (set by Acquisition._sessions)
    campaign: np.ndarray = field(default_factory=lambda: EMPTY)
    has_session: np.ndarray = field(default_factory=lambda: EMPTY)
    sess_ids: np.ndarray = field(default_factory=lambda: EMPTY)
    number: np.ndarray = field(default_factory=lambda: EMPTY)

    @property
    def n(self) -> int:
        return int(self.br.size)


@dataclass
class Booked:
    """One batch of booked appointments (index = appointment in the batch)."""

    req: Batch
    day: np.ndarray
    start: np.ndarray
    end: np.ndarray
    doc: np.ndarray
    branch: np.ndarray
    svc: np.ndarray
    is_first: np.ndarray
    status: np.ndarray
    price: np.ndarray
    a_ids: np.ndarray
    pidx: np.ndarray

    @property
    def n(self) -> int:
        return int(self.day.size)

    @property
    def done(self) -> np.ndarray:
        out: np.ndarray = self.status == ST_DONE
        return out

    def subset(self, mask: np.ndarray) -> Booked:
        """The appointments where ``mask`` holds."""
        return Booked(
            req=take(self.req, mask),
            day=self.day[mask],
            start=self.start[mask],
            end=self.end[mask],
            doc=self.doc[mask],
            branch=self.branch[mask],
            svc=self.svc[mask],
            is_first=self.is_first[mask],
            status=self.status[mask],
            price=self.price[mask],
            a_ids=self.a_ids[mask],
            pidx=self.pidx[mask],
        )
