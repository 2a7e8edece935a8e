"""Dated schedule rows the engine emits: a doctor's hours moved by ``[[changes]]``
(``doctors.<name>.hours_share``) are written as one ``open`` schedule exception per working day with
the hours kept (``closed`` when none are), so the load report counts the minutes the engine could
book."""

from __future__ import annotations

import datetime as dt

import numpy as np

from clinicflow.booking.models import ScheduleException
from clinicflow.simulator.writers.base import Columns, SinkBase


def _time(minutes: int) -> str:
    return str(dt.time(minutes // 60, minutes % 60)) if minutes < 1440 else "23:59:59"


def write_schedule_exceptions(out: SinkBase, c: Columns) -> None:
    ctx, st = out.ctx, out.sim.st
    doctor = np.asarray(c["doctor"], dtype=np.int64)
    start = np.asarray(c["start_min"], dtype=np.int64)
    end = np.asarray(c["end_min"], dtype=np.int64)
    closed = end <= start
    out.put(
        ScheduleException,
        {
            "id": c["id"],
            "branch": ctx.branch[st.doc_branch[doctor]],
            "doctor": ctx.doctor[doctor],
            "room": np.zeros((doctor.size, 16), dtype=np.uint8),
            "room__null": np.ones(doctor.size, dtype=bool),
            "date": out.sim.cal.day_epoch[np.asarray(c["day"], dtype=np.int64)],
            "kind": np.where(closed, "closed", "open").tolist(),
            "start_time": [_time(int(m)) for m in start],
            "start_time__null": closed,
            "end_time": [_time(int(m)) for m in end],
            "end_time__null": closed,
            "reason": ["hours_share"] * doctor.size,
        },
    )
