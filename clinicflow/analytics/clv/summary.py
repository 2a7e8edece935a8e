"""Transactions to the per-patient summary the CLV models need.

For each patient, as the BG/NBD and Gamma-Gamma models define it:

* purchases on one day count as one visit (their amounts are summed);
* ``frequency`` (x): the number of repeat visit days (the first visit is excluded);
* ``recency`` (t_x): time from the first visit to the last;
* ``T``: time from the first visit to ``until``;
* ``monetary``: mean value of the repeat visit days, 0 without repeats.

Transactions after ``until`` are ignored.  Times are in weeks (7 days) or days.
The grouping is vectorised with numpy; money is summed exactly in integer minor units.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import numpy as np
from numpy.typing import NDArray

TimeUnit = Literal["week", "day"]
DAYS_PER_UNIT: dict[str, int] = {"week": 7, "day": 1}


@dataclass(frozen=True)
class PatientSummary:
    """One entry per patient, sorted by ``patient_id``."""

    patient_ids: list[str]
    frequency: NDArray[np.int64]
    recency: NDArray[np.float64]
    T: NDArray[np.float64]
    monetary: list[Decimal]
    until: dt.date
    time_unit: TimeUnit

    def __len__(self) -> int:
        return len(self.patient_ids)

    @property
    def monetary_float(self) -> NDArray[np.float64]:
        return np.array([float(m) for m in self.monetary], dtype=np.float64)


def summarise(
    rows: Iterable[tuple[str, dt.date, Decimal]], *, until: dt.date, time_unit: TimeUnit = "week"
) -> PatientSummary:
    """Summarise ``(patient_id, date, amount)`` rows observed up to and including ``until``."""
    if time_unit not in DAYS_PER_UNIT:
        raise ValueError(f"time_unit must be 'week' or 'day', not {time_unit!r}")
    last_day = until.toordinal()
    kept = [(pid, d.toordinal(), amount) for pid, d, amount in rows if d.toordinal() <= last_day]
    if not kept:
        empty_f = np.zeros(0, dtype=np.float64)
        return PatientSummary([], np.zeros(0, dtype=np.int64), empty_f, empty_f.copy(), [], until, time_unit)

    ids = np.array([k[0] for k in kept], dtype=str)
    days = np.array([k[1] for k in kept], dtype=np.int64)
    cents, scale = _to_minor_units([k[2] for k in kept])

    patient_names, patient = np.unique(ids, return_inverse=True)
    # Sort by (patient, day) and collapse each patient-day into one visit.
    order = np.lexsort((days, patient))
    patient, days, cents = patient[order], days[order], cents[order]
    new_visit = np.ones(patient.size, dtype=bool)
    new_visit[1:] = (patient[1:] != patient[:-1]) | (days[1:] != days[:-1])
    starts = np.flatnonzero(new_visit)
    visit_patient = patient[starts]
    visit_day = days[starts]
    visit_value = np.add.reduceat(cents, starts)

    n_patients = patient_names.size
    visits = np.bincount(visit_patient, minlength=n_patients)
    first_index = np.concatenate(([0], np.cumsum(visits)[:-1]))
    last_index = first_index + visits - 1
    first_day = visit_day[first_index]
    total_value = np.add.reduceat(visit_value, first_index)
    repeat_value = total_value - visit_value[first_index]

    unit = float(DAYS_PER_UNIT[time_unit])
    frequency = (visits - 1).astype(np.int64)
    recency = (visit_day[last_index] - first_day) / unit
    T = (last_day - first_day) / unit
    monetary = [
        (Decimal(int(v)).scaleb(-scale) / int(f)) if f > 0 else Decimal(0)
        for v, f in zip(repeat_value.tolist(), frequency.tolist(), strict=True)
    ]
    return PatientSummary(
        patient_ids=[str(p) for p in patient_names],
        frequency=frequency,
        recency=recency.astype(np.float64),
        T=T.astype(np.float64),
        monetary=monetary,
        until=until,
        time_unit=time_unit,
    )


def _to_minor_units(amounts: list[Decimal]) -> tuple[NDArray[np.int64] | NDArray[np.object_], int]:
    """Exact integers ``amount * 10^scale`` for the smallest ``scale`` that makes all whole."""
    scale = 0
    for amount in amounts:
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > scale:
            scale = -exponent
    ints = [int(a.scaleb(scale)) for a in amounts]
    bound = max((abs(i) for i in ints), default=0) * len(ints)
    if bound < 2**62:
        return np.array(ints, dtype=np.int64), scale
    return np.array(ints, dtype=object), scale  # exact Python integers beyond int64
