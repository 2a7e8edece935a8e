"""The planner is honest (issue #18): fitted on a simulated clinic's history up to a month, its
prediction of the next months under a lever change lands within 10% (or inside its own 95%
interval) of a re-run of the simulator from the same seed with that lever changed in
``[[changes]]`` — for the first-visit price, a channel's budget, the recall campaigns' reach and
response and the repeat rate — and its baseline prediction within 10% of the baseline's own figures,
the revenue within ``BASELINE_REVENUE`` outright (not merely inside a wide interval)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from clinicflow.analytics.pricing.forecast import forecast
from clinicflow.analytics.pricing.history import realised
from clinicflow.analytics.pricing.levers import parse_levers
from clinicflow.analytics.pricing.whatif import build_plan
from clinicflow.conftest import module_data
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 6, 30)
MONTHS = 30  # 2024-01 .. 2026-06: two whole years of history, then the six predicted months
CHANGE = 24  # 2026-01: the lever moves, the planner predicts 2026-01 .. 2026-06
AS_OF = dt.date(2026, 1, 1)
HORIZON = 6
SEED = 11
CLINIC = {"months": MONTHS, "end_date": END.isoformat(), "demand_factor": 0.4}
# the baseline's revenue, whatever its interval says: 9.7% here (the calls come out 13% short: at this
# size the fitted trend is 3% ± 8% a year against the planted 10%); 3.1% at the benchmark's full demand
BASELINE_REVENUE = 0.12
RECALL_UP = 1.5  # the recall campaigns reach half as many lapsed patients again, and half as many book
REPEAT_UP = 1.3  # every doctor's repeat rate × 1.3

# A statistical check of the model against five re-runs of the simulator, the slowest module of the
# suite: it runs once, in the PostgreSQL pass. The database is incidental to what it checks; the
# planner's SQL on SQLite is checked by test_whatif_grouped.py (equal to the Python reference).
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="five simulations and re-runs: run once, in the PostgreSQL pass (the SQL on SQLite: "
        "test_whatif_grouped.py)",
    ),
]


def _simulate(slug: str, changes: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    from clinicflow.core.services import organization_create

    org = organization_create(name=slug, slug=slug, country="RU", currency="RUB")
    scn = load_scenario("mid", overrides={"clinic": CLINIC, "changes": changes})
    simulate_org(org=org, scenario=scn, seed=SEED)
    return org, scn


@pytest.fixture(scope="module")
def runs(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with module_data(django_db_blocker):
        base, scn = _simulate("wi-base", [])
        spend = next(c for c in scn.channels if c.code == "search_ads").monthly_spend
        price = dict(scn.price_schedule)[max(m for m, _ in scn.price_schedule if m <= CHANGE)]
        cut, _ = _simulate("wi-price", [{"month": CHANGE, "set": {"first_visit_price": price * 0.9}}])
        ads, _ = _simulate(
            "wi-ads", [{"month": CHANGE, "set": {"channels.search_ads.monthly_spend": spend * 1.3}}]
        )
        response = scn.recall["return_week"] + scn.recall["return_two_months"]
        recall, _ = _simulate(
            "wi-recall",
            [
                {
                    "month": CHANGE,
                    "set": {
                        "recall.contact_share": min(scn.recall["contact_share"] * RECALL_UP, 1.0),
                        "recall.response": response * RECALL_UP,
                    },
                }
            ],
        )
        repeat, _ = _simulate("wi-repeat", [{"month": CHANGE, "set": {"repeat_rate_factor": REPEAT_UP}}])
        yield {
            "base": base,
            "price": cut,
            "ads": ads,
            "recall": recall,
            "repeat": repeat,
            "price_now": price,
            "scenario": scn,
            "model": build_plan(org=base, as_of=AS_OF),  # fitted once for both tests
        }


def _totals(org) -> dict[str, float]:  # type: ignore[no-untyped-def]
    rows = realised(org=org, date_from=AS_OF, date_to=END)
    assert len(rows) == HORIZON
    return {k: float(sum(r[k] for r in rows)) for k in ("unique_calls", "first_visits", "revenue")}


def _check(pred: dict[str, Any], real: dict[str, float], what: str) -> list[str]:
    errors = []
    for k in ("unique_calls", "first_visits", "revenue"):
        p, lo, hi = float(pred[k]), float(pred["low"][k]), float(pred["high"][k])
        err = abs(p - real[k]) / real[k]
        print(f"{what} {k}: predicted {p:.0f} [{lo:.0f}, {hi:.0f}] realised {real[k]:.0f} error {err:.1%}")
        if err > 0.10 and not lo <= real[k] <= hi:
            errors.append(f"{what} {k}")
    return errors


@pytest.mark.django_db
def test_the_planner_predicts_a_price_cut_and_a_budget_rise(runs) -> None:  # type: ignore[no-untyped-def]
    model = runs["model"]
    base = forecast(model, [], HORIZON).totals
    now = model.current()
    price = Decimal(str(runs["price_now"])) * Decimal("0.9")
    assert abs(now["first_visit_price"] - Decimal(str(runs["price_now"]))) < 1
    cut = forecast(model, parse_levers(model, {"first_visit_price": price}), HORIZON).totals
    spend = now["channels.search_ads.monthly_spend"] * Decimal("1.3")
    ads = forecast(model, parse_levers(model, {"channels.search_ads.monthly_spend": spend}), HORIZON).totals
    real = _totals(runs["base"])
    failed = _check(base, real, "baseline")
    revenue_error = abs(float(base["revenue"]) - real["revenue"]) / real["revenue"]
    assert revenue_error <= BASELINE_REVENUE, f"baseline revenue off by {revenue_error:.1%}"
    failed += _check(cut, _totals(runs["price"]), "price -10%")
    failed += _check(ads, _totals(runs["ads"]), "search ads +30%")
    assert not failed, failed
    # the price effect against the planted one: calls × (1 + calls_change_per_step)^(cut / step)
    scn = runs["scenario"]
    planted = (1 + scn.calls_change_per_step) ** (runs["price_now"] * 0.1 / scn.elasticity_step)
    effect = float(cut["unique_calls"]) / float(base["unique_calls"])
    print(f"price effect on calls: predicted x{effect:.3f}, planted x{planted:.3f}")
    assert abs(effect - planted) / planted <= 0.10
    # and the planted direction: a price cut and a bigger budget both bring calls
    assert float(cut["unique_calls"]) > 1.05 * float(base["unique_calls"])
    assert float(ads["unique_calls"]) > 1.02 * float(base["unique_calls"])


@pytest.mark.django_db
def test_the_planner_predicts_the_recall_and_repeat_levers(runs) -> None:  # type: ignore[no-untyped-def]
    """Recall campaigns reaching more lapsed patients with a better response: the prediction within
    10% (or its interval) of the re-run, and its gain over the baseline prediction close to the gain
    the re-run shows over the baseline run; a higher repeat rate likewise."""
    model = runs["model"]
    now = model.current()
    up = Decimal(str(RECALL_UP))
    assert 0 < now["recall.contact_share"] <= 1 and 0 < now["recall.response"] < 1
    assert now["repeat_rate_factor"] == 1
    base = forecast(model, [], HORIZON).totals
    recall = forecast(
        model,
        parse_levers(
            model,
            {
                "recall.contact_share": min(now["recall.contact_share"] * up, Decimal(1)),
                "recall.response": now["recall.response"] * up,
            },
        ),
        HORIZON,
    ).totals
    repeat = forecast(model, parse_levers(model, {"repeat_rate_factor": REPEAT_UP}), HORIZON).totals
    real = {k: _totals(runs[k]) for k in ("base", "recall", "repeat")}
    assert not _check(recall, real["recall"], "recall x1.5")
    assert not _check(repeat, real["repeat"], "repeat x1.3")
    gains = {}
    for what, pred in (("recall", recall), ("repeat", repeat)):
        gain = float(pred["revenue"]) / float(base["revenue"]) - 1
        seen = real[what]["revenue"] / real["base"]["revenue"] - 1
        gains[what] = (gain, seen)
        print(f"{what}: revenue gain predicted {gain:+.1%}, re-run {seen:+.1%}")
        assert gain > 0.02  # the levers bring revenue
        # and neither touches the calls nor the first visits
        assert pred["unique_calls"] == base["unique_calls"]
        assert pred["first_visits"] == base["first_visits"]
    # the re-runs' own noise: two runs part ways after the change (their first visits differ by ~5%),
    # so a six months' gain is known to a few points; the recall gain within 8 points
    gain, seen = gains["recall"]
    assert abs(gain - seen) <= 0.08
    # the repeat lever: the gain within 5 points of the re-run's (+13.1% predicted, +12.6% re-run on
    # PostgreSQL; counting each patient's first return after five weeks alone, it was +6.4%)
    gain, seen = gains["repeat"]
    assert abs(gain - seen) <= 0.05
