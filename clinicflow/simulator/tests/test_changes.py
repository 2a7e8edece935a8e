"""``[[changes]]``: levers moved from a month on (issue #18) — checked at parse, applied by the
engine, recorded in the truth."""

from __future__ import annotations

import pytest

from clinicflow.simulator.engine.core import Simulation
from clinicflow.simulator.scenario import ScenarioError, load_scenario

BASE = {"clinic": {"months": 8, "demand_factor": 0.5}}


def _scn(changes: list[dict[str, object]]):  # type: ignore[no-untyped-def]
    return load_scenario("mid", overrides={**BASE, "changes": changes})


def _run(scn):  # type: ignore[no-untyped-def]
    rows: dict[str, int] = {}

    def sink(table: str, cols: dict[str, object]) -> None:
        first = next(iter(cols.values()))
        rows[table] = rows.get(table, 0) + len(first)  # type: ignore[arg-type]

    sim = Simulation(scn, seed=4, unique_window_days=30)
    sim.run(sink)
    return sim


def test_levers_are_checked_by_name_and_value() -> None:
    with pytest.raises(ScenarioError, match="unknown lever"):
        _scn([{"month": 2, "set": {"channels.search_ads.budget": 1}}])
    with pytest.raises(ScenarioError, match="no channel 'tv'"):
        _scn([{"month": 2, "set": {"channels.tv.monthly_spend": 1}}])
    with pytest.raises(ScenarioError, match="between 0 and 1"):
        _scn([{"month": 2, "set": {"administrators.Alina Belova.conversion": 1.5}}])
    with pytest.raises(ScenarioError, match="month"):
        _scn([{"month": 99, "set": {"first_visit_price": 2000}}])


def test_price_changes_join_the_schedule_and_spend_moves_from_its_month() -> None:
    scn = _scn(
        [
            {"month": 3, "set": {"first_visit_price": 2250}},
            {"month": 4, "set": {"channels.search_ads.monthly_spend": 600000}},
        ]
    )
    assert (3, 2250.0) in scn.price_schedule
    base = _run(load_scenario("mid", overrides=BASE))
    changed = _run(scn)
    c = [ch.code for ch in scn.channels].index("search_ads")
    before, after = list(base.demand.spend[:, c]), list(changed.demand.spend[:, c])
    assert before[:4] == pytest.approx(after[:4])  # the same seed: untouched until the change
    assert all(a > 1.5 * b for a, b in zip(after[4:], before[4:], strict=True))


def test_an_administrator_s_conversion_moves_from_its_month() -> None:
    name = load_scenario("mid", overrides=BASE).administrators[0].name_en
    sim = _run(_scn([{"month": 5, "set": {f"administrators.{name}.conversion": 0.9}}]))
    assert sim.adm_conv[0] == 0.9
