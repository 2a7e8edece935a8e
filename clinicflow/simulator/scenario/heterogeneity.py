"""``[patients.heterogeneity]``: how patients differ in how often they come back and how soon they
stop coming (the BG/NBD model's population, Fader, Hardie & Lee 2005)."""

from __future__ import annotations

from clinicflow.simulator.scenario.model import Heterogeneity
from clinicflow.simulator.scenario.reader import TableReader


def parse_heterogeneity(top: TableReader) -> Heterogeneity:
    h = top.table("patients").table("heterogeneity")
    return Heterogeneity(
        enabled=h.flag("enabled", True),
        r=h.num("r", 1.0, 0.05, 100.0),
        alpha=h.num("alpha", 8.0, 0.01, 10_000.0),
        a=h.num("a", 0.3, 0.05, 1000.0),
        b=h.num("b", 0.45, 0.05, 1000.0),
    )
