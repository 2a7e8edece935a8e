"""The planted operations in the truth document: each doctor's working week and weight against the
load realised (booked minutes / working minutes, as the capacity report counts them) over the run's
first and last weeks, late cancellations and the same-day first procedures."""

from __future__ import annotations

from typing import Any

import numpy as np

from clinicflow.simulator.engine.core import Simulation
from clinicflow.simulator.engine.setup import ST_CANCELLED, ST_DONE, ST_NO_SHOW

LOAD_DAYS = 91  # the load is reported over the first and the last 13 weeks of the run

DEFINITIONS = {
    "load": "minutes of appointments that hold the doctor's time (booked, confirmed, arrived, done) / "
    "minutes of the doctors' working hours, over the run's first and last 91 days (overall: all doctors)",
    "late_cancellation": "cancellations made less than 24 hours before the start (the booking app's "
    "default cut-off) / cancellations; planted: the share drawn late, realised: also those booked less "
    "than a day ahead, which can only be cancelled late",
    "same_day_procedure": "per service category: the probability that a consultation which planned a "
    "treatment is followed by its first session the same day (if the doctor has time that day); "
    "realised: done visits on a patient's first-visit day after the consultation / converted "
    "consultations",
}


def _rate(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def loads(sim: Simulation, days: slice) -> tuple[float | None, list[float | None]]:
    """Overall and per-doctor load over ``days`` (day indexes of the run)."""
    st, cal = sim.st, sim.cal
    shift = (st.doc_end_min - st.doc_start_min).astype(np.int64)
    available = st.doc_weekdays[:, cal.weekday[days]].sum(axis=1) * shift
    booked = sim.tally.doc_booked_min[:, days].sum(axis=1).astype(np.int64)
    per_doctor = [_rate(int(b), int(a)) for b, a in zip(booked, available, strict=True)]
    return _rate(int(booked.sum()), int(available.sum())), per_doctor


def operations_truth(sim: Simulation) -> dict[str, Any]:
    scn, t = sim.scn, sim.tally
    ap = scn.appointments
    n = sim.cal.n_days
    first = loads(sim, slice(0, min(LOAD_DAYS, n)))
    last = loads(sim, slice(max(n - LOAD_DAYS, 0), n))
    names = [d.name for d in scn.doctors]
    past = t.appt_status[:, [ST_DONE, ST_NO_SHOW, ST_CANCELLED]]
    cancelled = int(past[:, 2].sum())
    return {
        "definitions": DEFINITIONS,
        "planted": {
            # relative load (the working weeks: structure.doctors_rooms)
            "doctor_weights": {d.name: d.weight for d in scn.doctors},
            "late_cancellation": ap["late_cancellation"],
            "same_day_procedure": dict(ap["same_day_procedure"]),
        },
        "realised": {
            "load_first_days": {"overall": first[0], "doctors": dict(zip(names, first[1], strict=True))},
            "load_last_days": {"overall": last[0], "doctors": dict(zip(names, last[1], strict=True))},
            "cancelled": cancelled,
            "late_cancelled": t.late_cancelled,
            "late_cancellation": _rate(t.late_cancelled, cancelled),
            "same_day_planned": t.same_day_planned,
            "same_day_done": t.same_day_done,
            "same_day_share": _rate(t.same_day_done, int(t.converted.sum())),
        },
    }
