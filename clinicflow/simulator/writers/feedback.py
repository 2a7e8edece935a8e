"""The engine's answered surveys, written through the feedback app's models."""

from __future__ import annotations

from clinicflow.simulator.writers import records
from clinicflow.simulator.writers.base import Columns, SinkBase


def write_surveys(out: SinkBase, c: Columns) -> None:
    records.write_surveys(out, c)
