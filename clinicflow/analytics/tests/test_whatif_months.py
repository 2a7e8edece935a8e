"""The planner reads the owner's daily facts when they are built (issue #18's speed): on a simulated
clinic with branches on two clocks, refunds, payments in another currency and a prepayment made the
month before a patient's first visit, the first patients per branch and month, the cohorts' revenue
and the months' revenue read from the facts (``CohortFact``, ``RevenueSplitFact``) equal the raw
statement's, in both currencies and over a window that starts after the clinic opened; the lapsed
patients counted from the facts (the first patients less those seen lately, from the return facts)
equal the raw count; and the whole fit — unique calls (the traffic facts),
elasticity, value curve, recall and repeat levers (the return facts), forecast — is the same from
either."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest

from clinicflow.analytics.owner.facts import rebuild
from clinicflow.analytics.pricing.forecast import forecast
from clinicflow.analytics.pricing.levers import parse_levers
from clinicflow.analytics.pricing.panel import month_range
from clinicflow.analytics.pricing.return_facts import build_return_facts
from clinicflow.analytics.pricing.whatif import build_plan
from clinicflow.analytics.pricing.whatif_months import facts_ready, lapsed_patients, monthly
from clinicflow.analytics.tests.payment_twists import add_refunds_and_euros
from clinicflow.booking.models import Appointment, Payment
from clinicflow.core.models import Branch, Organization
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 11, 30)


@pytest.fixture
def clinic(org: Organization) -> Organization:
    simulate_org(
        org=org,
        scenario=load_scenario(overrides={"clinic": {"months": 8, "end_date": END.isoformat()}}),
        seed=7,
    )
    add_refunds_and_euros(org, first=60)
    # a prepayment the month before a first visit: the cohort report counts it in the first month
    first = Appointment.objects.for_org(org).filter(start_at__gte=dt.datetime(2026, 9, 3, tzinfo=dt.UTC))
    visit = first.order_by("start_at").first()
    assert visit is not None
    Payment.objects.create(
        organization=org,
        branch_id=visit.branch_id,
        patient_id=visit.patient_id,
        kind="payment",
        amount=Decimal("777.77"),
        currency="RUB",
        method="cash",
        paid_at=dt.datetime(2026, 8, 20, 9, tzinfo=dt.UTC),
    )
    assert not facts_ready(org)
    rebuild(org)
    assert facts_ready(org)
    return org


@pytest.mark.django_db
def test_the_facts_give_the_raw_statements_figures(clinic) -> None:
    org = clinic
    assert len({b.timezone for b in Branch.objects.for_org(org)}) > 1
    checked = 0
    for d0 in (dt.date(2026, 4, 1), dt.date(2026, 7, 1)):
        months = month_range(d0, END)
        for currency in ("RUB", "EUR"):
            raw = monthly(org=org, months=months, date_to=END, currency=currency, facts=False)
            facts = monthly(org=org, months=months, date_to=END, currency=currency, facts=True)
            assert facts.facts and not raw.facts
            assert facts.first_visits == raw.first_visits and sum(raw.first_visits.values()) > 0
            assert facts.cohort_cents == raw.cohort_cents
            assert facts.revenue == raw.revenue
            checked += sum(raw.revenue.values()) > 0 and sum(raw.cohort_cents.values()) > 0
    assert checked == 3  # the euros are paid in the clinic's first months only


@pytest.mark.django_db
def test_the_lapsed_patients_from_the_facts_equal_the_raw_count(clinic) -> None:
    org = clinic
    build_return_facts(org)  # the return facts (``fact_hooks`` builds them with the rebuild)
    seen = set()
    for day in (dt.date(2026, 10, 14), dt.date(2026, 11, 2), dt.date(2026, 9, 1)):
        for days in (30, 60):
            raw = lapsed_patients(org=org, day=day, days=days, currency="RUB", facts=False)
            assert lapsed_patients(org=org, day=day, days=days, currency="RUB", facts=True) == raw
            seen.add(raw)
    assert len(seen) > 2 and min(seen) > 0


@pytest.mark.django_db
def test_the_fit_is_the_same_from_the_facts_and_from_the_raw_rows(clinic) -> None:
    org = clinic
    build_return_facts(org)  # the return facts (``fact_hooks`` builds them with the rebuild)
    a = build_plan(org=org, as_of=dt.date(2026, 12, 1), facts=False)
    b = build_plan(org=org, as_of=dt.date(2026, 12, 1))  # the facts are built: read
    assert b.history.panel.monthly is not None and b.history.panel.monthly.facts
    assert a.history.panel.calls == b.history.panel.calls  # the traffic facts' unique calls
    assert sum(a.history.panel.calls.values()) > 0
    np.testing.assert_array_equal(a.repeat.links, b.repeat.links)  # the return facts
    np.testing.assert_allclose(a.repeat.value, b.repeat.value, rtol=0, atol=1e-6)
    np.testing.assert_allclose(a.repeat.totals, b.repeat.totals, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(a.repeat.weights, b.repeat.weights)
    assert a.history.panel.first_visits == b.history.panel.first_visits
    np.testing.assert_array_equal(a.history.cohort_size, b.history.cohort_size)
    np.testing.assert_allclose(a.history.cohort_revenue, b.history.cohort_revenue, rtol=0, atol=1e-6)
    np.testing.assert_allclose(a.history.older, b.history.older, rtol=0, atol=1e-6)
    assert a.elasticity.calls_change == b.elasticity.calls_change
    assert a.elasticity.first_visits_change == pytest.approx(b.elasticity.first_visits_change, abs=1e-12)
    assert a.recall.reach == b.recall.reach and a.recall.reach > 0
    np.testing.assert_allclose(a.value, b.value, rtol=1e-12)
    levers = {
        "first_visit_price": a.current()["first_visit_price"] * Decimal("0.9"),
        "repeat_rate_factor": 1.2,
    }
    for m in (a, b):
        m.fit_seconds = 0.0
    pa = forecast(a, parse_levers(a, levers), 6).totals
    pb = forecast(b, parse_levers(b, levers), 6).totals
    for k in ("unique_calls", "first_visits", "revenue"):
        assert float(pa[k]) == pytest.approx(float(pb[k]), rel=1e-9)
