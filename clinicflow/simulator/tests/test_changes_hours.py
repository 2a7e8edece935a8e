"""``doctors.<name>.hours_share`` in ``[[changes]]`` (issue #18): checked at parse, and from its month the
doctor's bookings end within that share of each shift."""

from __future__ import annotations

import numpy as np
import pytest

from clinicflow.simulator.engine.core import Simulation
from clinicflow.simulator.scenario import ScenarioError, load_scenario

BASE = {"clinic": {"months": 6, "demand_factor": 1.5}}


def _run(changes: list[dict[str, object]]) -> Simulation:
    sim = Simulation(
        load_scenario("mid", overrides={**BASE, "changes": changes}), seed=4, unique_window_days=30
    )
    sim.run(lambda table, cols: None)
    return sim


def test_the_hours_lever_is_checked() -> None:
    name = load_scenario("mid", overrides=BASE).doctors[0].name_en
    with pytest.raises(ScenarioError, match="between 0 and 2"):
        load_scenario(
            "mid", overrides={**BASE, "changes": [{"month": 2, "set": {f"doctors.{name}.hours_share": 3}}]}
        )
    with pytest.raises(ScenarioError, match=r"no doctor 'Dr\. Nobody'"):
        load_scenario(
            "mid", overrides={**BASE, "changes": [{"month": 2, "set": {"doctors.Dr. Nobody.hours_share": 1}}]}
        )


def test_a_doctor_s_bookings_fit_the_shorter_hours_from_the_month_on() -> None:
    scn = load_scenario("mid", overrides=BASE)
    d = 0
    base = _run([])
    cut = _run([{"month": 3, "set": {f"doctors.{scn.doctors[d].name_en}.hours_share": 0.5}}])
    shift = int(cut.st.doc_end_min[d] - cut.st.doc_start_min[d])
    assert cut.staff.day_len[d] == round(shift * 0.5) and base.staff.day_len[d] == shift
    a, z = int(cut.cal.month_start[4]), int(cut.cal.month_start[6])
    after = cut.staff.used[d, a:z]
    worked = after[after > 0]
    assert worked.size > 0
    assert np.mean(worked <= round(shift * 0.5)) >= 0.9  # (a few were booked before the change)
    assert base.staff.used[d, a:z].max() > round(shift * 0.5)  # the doctor was busier than that before
