"""What the table writers share: the sink's bulk writers and row counts, the run's context (the
ids of the structure) and the helpers that turn engine indexes into ids."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np
from django.db import connection, models

from clinicflow.simulator.engine.core import Columns, Simulation
from clinicflow.simulator.writers.bulk import BulkWriter, CopyPipe
from clinicflow.simulator.writers.structure import Context

__all__ = ["Columns", "SinkBase", "pick", "utm_of"]


def pick(ids: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Ids by index; -1 gives a zero row (pair it with a ``__null`` mask)."""
    if ids.shape[0] == 0:
        return np.zeros((idx.size, 16), dtype=np.uint8)
    out: np.ndarray = ids[np.maximum(idx, 0)]
    return out


def utm_of(
    ctx: Context, campaign: np.ndarray, *, source: str = "", medium: str = ""
) -> tuple[list[str], list[str], list[str]]:
    """Each row's campaign UTM source, medium and campaign (without a campaign: the defaults)."""
    utm = ctx.utm
    src = [utm[int(k)][0] if k >= 0 else source for k in campaign]
    med = [utm[int(k)][1] if k >= 0 else medium for k in campaign]
    name = [utm[int(k)][2] if k >= 0 else "" for k in campaign]
    return src, med, name


class SinkBase:
    """Bulk writers per model (PostgreSQL: through one background COPY pipe), rows and seconds per
    table."""

    def __init__(self, sim: Simulation, ctx: Context) -> None:
        self.sim = sim
        self.ctx = ctx
        self.writers: dict[type[models.Model], BulkWriter] = {}
        self.rows: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self.pipe = CopyPipe() if connection.vendor == "postgresql" else None
        self.cache: dict[str, Any] = {}  # what writers set up once per run (e.g. consent forms)

    def close(self) -> None:
        """Wait for the background COPY (PostgreSQL) to finish; the connection is free again."""
        if self.pipe is not None:
            pipe, self.pipe = self.pipe, None
            pipe.close()

    def writer(self, model: type[models.Model]) -> BulkWriter:
        if model not in self.writers:
            self.writers[model] = BulkWriter(model, now=self.ctx.now, org_id=self.ctx.org.pk, pipe=self.pipe)
        return self.writers[model]

    def put(self, model: type[models.Model], cols: dict[str, Any]) -> None:
        t = time.perf_counter()
        n = self.writer(model).write(cols)
        self.count(model._meta.label, n, t)

    def count(self, label: str, rows: int, started: float) -> None:
        self.rows[label] += rows
        self.seconds[label] += time.perf_counter() - started

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def pid(self, idx: np.ndarray) -> np.ndarray:
        """Patient ids by patient number (-1: a zero row, pair it with a ``__null`` mask)."""
        out: np.ndarray = self.sim.pat.ids[np.maximum(idx, 0)]
        return out
