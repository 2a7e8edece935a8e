"""Days past the calendar's horizon: a recall booking two months after the last simulated day."""

from __future__ import annotations

import numpy as np

from clinicflow.simulator.engine.core import Simulation
from clinicflow.simulator.engine.state import DAY_S
from clinicflow.simulator.scenario import load_scenario


def test_day_seconds_past_the_horizon_continue_the_last_day():
    scn = load_scenario("mid", overrides={"clinic": {"months": 2}})
    w = Simulation(scn, 3, unique_window_days=30).world
    last = w.cal.total_days - 1
    branch = np.zeros(4, dtype=np.int64)
    days = np.array([last - 1, last, last + 1, last + 40])
    got = w.day_seconds(branch, days)
    assert got[1] - got[0] in (DAY_S - 3600, DAY_S, DAY_S + 3600)  # a DST change may fall between
    assert got[2] - got[1] == DAY_S
    assert got[3] - got[1] == 40 * DAY_S


def test_a_nine_month_mid_run_with_recall_finishes():
    scn = load_scenario("mid", overrides={"clinic": {"months": 9}})
    sim = Simulation(scn, 7, unique_window_days=30)
    rows: dict[str, int] = {}

    def sink(table: str, cols: dict[str, np.ndarray]) -> None:
        rows[table] = rows.get(table, 0) + len(next(iter(cols.values())))

    sim.run(sink)
    assert rows["appointments"] > 1000
    assert sim.tally.recall_contacted > 0
