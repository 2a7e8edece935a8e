"""The first-visit price elasticity recovered from a simulated clinic's history (issue #18): within
its 95% interval of the planted ``calls_change_per_step``; with a price that never changed, no
number at all."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from clinicflow.analytics.pricing.fit import best_split, estimate
from clinicflow.analytics.pricing.panel import build_panel
from clinicflow.conftest import module_data
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

MONTHS = 24
END = dt.date(2026, 6, 30)


def _simulate(slug: str, overrides: dict[str, object], seed: int, months: int = MONTHS):  # type: ignore[no-untyped-def]
    from clinicflow.core.services import organization_create

    org = organization_create(name=slug, slug=slug, country="RU", currency="RUB")
    scn = load_scenario(
        "default", overrides={"clinic": {"months": months, "end_date": END.isoformat()}, **overrides}
    )
    result = simulate_org(org=org, scenario=scn, seed=seed)
    return org, scn, result


@pytest.fixture(scope="module")
def priced(django_db_setup, django_db_blocker):
    with module_data(django_db_blocker):
        org, scn, _ = _simulate("priced", {}, 18)
        yield org, scn


@pytest.mark.django_db
def test_elasticity_recovers_the_planted_effect(priced) -> None:
    org, scn = priced
    start = dt.date(END.year - 2, END.month + 1, 1) if END.month < 12 else dt.date(END.year - 1, 1, 1)
    panel = build_panel(org=org, date_from=start, date_to=END)
    e = estimate(panel, step=Decimal(str(scn.elasticity_step)))
    assert e.estimated, e.warning
    assert e.calls_ci is not None and e.calls_ci[0] <= scn.calls_change_per_step <= e.calls_ci[1]
    assert (
        e.first_visits_ci is not None
        and e.first_visits_ci[0] < scn.calls_change_per_step < e.first_visits_ci[1]
    )
    # each paid channel's diminishing returns: the planted exponent inside the fitted interval
    codes = {c.pk: c.code for c in panel.channels}
    planted = {ch.code: ch.returns for ch in scn.channels}
    assert len(e.curves) >= 4
    for curve in e.curves:
        lo, hi = curve.beta_ci
        assert lo <= planted[codes[curve.channel_id]] <= hi, (curve.name, curve.beta_ci)
    split = best_split(e.curves, sum((c.monthly_spend for c in e.curves), Decimal(0)))
    assert split and abs(sum(split.values()) - sum(c.monthly_spend for c in e.curves)) < Decimal("1")


@pytest.mark.django_db
def test_a_price_that_never_changed_gives_no_number(db) -> None:
    flat = {"first_visit_price": {"schedule": [{"month": 0, "price": 2500}]}}
    org, _, _ = _simulate("flat", flat, 5, months=8)
    panel = build_panel(org=org, date_from=dt.date(2025, 11, 1), date_to=END)
    e = estimate(panel)
    assert not e.estimated and e.calls_change is None and e.calls_ci is None
    assert "never changed" in e.warning
    assert [float(p) for p in e.price_levels] == [2500.0]


@pytest.mark.django_db
def test_the_reports_show_the_fit_and_the_curves(priced) -> None:
    from clinicflow.analytics.reports import ReportContext, get_report, load_reports

    load_reports()
    org, _ = priced
    ctx = ReportContext(org=org, user=None, date_from=dt.date(2024, 7, 1), date_to=END, branch=None)
    fit = get_report("price_elasticity").compute(ctx)
    assert len(fit.rows) == MONTHS and "95% interval" in fit.notes[0]
    total = sum(r["calls"] for r in fit.rows)
    assert abs(sum(r["fitted"] for r in fit.rows) - total) < 0.02 * total  # Poisson fits keep the total
    curves = get_report("channel_response").compute(ctx)
    assert len(curves.rows) >= 4 and all(r["best_spend"] is not None for r in curves.rows if r["returns"] > 0)


def test_without_history_the_report_says_it_cannot_estimate(api) -> None:
    body = api("owner").get("/api/v1/reports/price_elasticity").json()
    assert body["rows"] == [] and body["notes"][0].startswith("Cannot estimate")
    assert api("owner").get("/api/v1/reports/channel_response").status_code == 200
