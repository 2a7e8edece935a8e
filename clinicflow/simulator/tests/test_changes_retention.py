"""``[[changes]]`` levers of retention (issue #18): ``recall.contact_share``, ``recall.response`` and
``repeat_rate_factor`` are checked at parse and move the engine from their month on; and a doctor's
``hours_share`` is also written as dated schedule rows (``hours_exceptions``)."""

from __future__ import annotations

import numpy as np
import pytest

from clinicflow.simulator.engine.core import Simulation
from clinicflow.simulator.scenario import ScenarioError, load_scenario
from clinicflow.simulator.scenario.changes import REPEAT_CAP, hours_exceptions

BASE = {"clinic": {"months": 8, "demand_factor": 0.6}}
CHANGE = 4


def _scenario(changes: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    return load_scenario("mid", overrides={**BASE, "changes": changes})


def _run(changes: list[dict[str, object]]) -> Simulation:
    sim = Simulation(_scenario(changes), seed=5, unique_window_days=30)
    sim.run(lambda table, cols: None)
    return sim


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("recall.contact_share", 1.5, "between 0 and 1"),
        ("recall.response", -0.1, "between 0 and 1"),
        ("repeat_rate_factor", 6, "between 0 and 5"),
        ("recall.nothing", 1, "unknown lever 'recall.nothing'"),
    ],
)
def test_the_retention_levers_are_checked(name: str, value: float, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        _scenario([{"month": CHANGE, "set": {name: value}}])


def test_the_recall_levers_move_the_campaigns_from_their_month() -> None:
    scn = _scenario([])
    every = int(scn.recall["every_months"])
    base = _run([])
    more = _run([{"month": CHANGE, "set": {"recall.contact_share": 1.0, "recall.response": 0.5}}])
    assert more.recall.reach == 1.0
    assert more.recall.week + more.recall.two_months == pytest.approx(0.5)
    share = scn.recall["return_week"] / (scn.recall["return_week"] + scn.recall["return_two_months"])
    assert more.recall.week == pytest.approx(0.5 * share)  # the week's share of the response is kept
    first = CHANGE + (-CHANGE) % every  # the first campaign on or after the change
    assert base.recall.contact_day.size and more.recall.contact_day.size
    a = int(base.cal.month_start[first])

    def counts(sim: Simulation) -> tuple[int, int, float]:
        after = sim.recall.contact_day >= a
        booked = sim.recall.booked_day[after] >= 0
        return int((~after).sum()), int(after.sum()), float(booked.mean()) if booked.size else 0.0

    before_b, after_b, response_b = counts(base)
    before_m, after_m, response_m = counts(more)
    assert before_m == before_b  # the campaigns before the change are the same
    assert after_m > 1.3 * after_b  # every lapsed patient is called instead of 60% of them
    assert response_m > 0.4 > response_b  # half of them book (was 8% + 12%)


def test_the_repeat_factor_moves_every_doctor_s_repeat_rate() -> None:
    scn = _scenario([])
    planted = np.array([d.repeat_rate for d in scn.doctors])
    more = _run([{"month": CHANGE, "set": {"repeat_rate_factor": 1.5}}])
    assert np.allclose(more.staff.doc_a["repeat"], np.minimum(planted * 1.5, REPEAT_CAP))
    base = _run([])
    assert np.allclose(base.staff.doc_a["repeat"], planted)


def test_the_hours_lever_is_written_as_dated_schedule_rows() -> None:
    scn0 = _scenario([])
    name = scn0.doctors[0].name_en
    scn = _scenario(
        [
            {"month": CHANGE, "set": {f"doctors.{name}.hours_share": 0.5}},
            {"month": CHANGE + 2, "set": {f"doctors.{name}.hours_share": 0}},
        ]
    )
    sim = Simulation(scn, seed=5, unique_window_days=30)
    rows = hours_exceptions(scn, sim.cal, sim.st)
    cal, st = sim.cal, sim.st
    shift = int(st.doc_end_min[0] - st.doc_start_min[0])
    a, b = int(cal.month_start[CHANGE]), int(cal.month_start[CHANGE + 2])
    half = (rows["day"] >= a) & (rows["day"] < b)
    # one row per working day of the doctor, from the change's month on, none before it
    assert rows["day"].min() == a + int(np.argmax(st.doc_weekdays[0, cal.weekday[a:]]))
    assert np.all(st.doc_weekdays[0, cal.weekday[rows["day"]]])
    assert half.sum() == st.doc_weekdays[0, cal.weekday[a:b]].sum()
    assert (rows["doctor"] == 0).all()
    assert np.all(rows["end_min"][half] - rows["start_min"][half] == round(shift * 0.5))
    # the second change takes over from its month: no hours kept (a closed day) until the end
    assert np.all(rows["end_min"][~half] == rows["start_min"][~half])
    assert rows["day"].max() < cal.total_days
    assert rows["day"].size == st.doc_weekdays[0, cal.weekday[a:]].sum()
    assert hours_exceptions(scn0, cal, st) == {}
