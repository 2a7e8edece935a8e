"""The engine's follow-up tasks and recall contacts, written through the care app's models."""

from __future__ import annotations

from clinicflow.simulator.writers import records
from clinicflow.simulator.writers.base import Columns, SinkBase


def write_followups(out: SinkBase, c: Columns) -> None:
    records.write_followups(out, c)


def write_recall_contacts(out: SinkBase, c: Columns) -> None:
    records.write_recall_contacts(out, c)
