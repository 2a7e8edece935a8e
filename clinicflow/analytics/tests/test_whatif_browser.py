"""The owner's path on the what-if planner in a browser (headless Chromium, issue #18): move a lever,
see the prediction and its 95% interval change against the baseline, save the scenario."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client

from clinicflow.accounts.roles import Role
from clinicflow.accounts.services import user_create
from clinicflow.analytics.pricing.models import PlanScenario
from clinicflow.core.services import organization_create
from clinicflow.core.tests.chromium import ARGS, CHROMIUM
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]

END = dt.date(2026, 6, 30)
CLINIC = {"months": 14, "end_date": END.isoformat(), "demand_factor": 0.3}


def _totals(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The totals row after its label: unique calls, first visits, revenue, low, high, ..., the
    baseline's revenue."""
    return [c.strip() for c in page.locator("#whatif-table tr.totals th").all_inner_texts()][1:]


def test_the_owner_moves_a_lever_and_saves_the_scenario(live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    org = organization_create(name="Planner browser", slug="planner-browser", country="RU", currency="RUB")
    simulate_org(org=org, scenario=load_scenario("mid", overrides={"clinic": CLINIC}), seed=3)
    owner = user_create(
        org=org, actor=None, email="owner@browser.test", password="x" * 20, role=Role.OWNER, validate=False
    )
    session = Client()
    session.force_login(owner, backend="django.contrib.auth.backends.ModelBackend")
    cookie = session.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            ctx = browser.new_context(viewport={"width": 1400, "height": 900})
            ctx.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
            page = ctx.new_page()
            page.goto(f"{live_server.url}/analytics/whatif/")
            expect(page.locator("#whatif-table")).to_be_visible()
            before = _totals(page)
            assert before[2] == before[-1]  # no lever moved: the prediction is the baseline
            price = page.locator('#whatif-form input[name="first_visit_price"]')
            now = float(price.input_value())
            price.fill(str(round(now * 0.8)))
            page.locator('#whatif-form button[type="submit"]').click()
            page.wait_for_url("**first_visit_price=*")
            after = _totals(page)
            # a 20% cheaper first visit: more calls and first visits, and the interval moved with them
            assert after[0] != before[0] and after[1] != before[1]
            assert (after[3], after[4]) != (before[3], before[4])  # the revenue's 95% interval
            assert after[-1] == before[-1]  # the baseline stays
            assert page.locator('#whatif-form input[name="first_visit_price"]').input_value() == str(
                round(now * 0.8)
            )
            save = page.locator('form[action$="/scenarios/"]')
            save.locator('input[name="name"]').fill("Cheaper first visit")
            save.locator('button[type="submit"]').click()
            expect(page.locator("#scenarios")).to_contain_text("Cheaper first visit")
            expect(page.locator("#scenarios")).to_contain_text(f"first_visit_price={round(now * 0.8)}")
            row = PlanScenario.objects.for_org(org).get()
            assert row.levers == {"first_visit_price": str(round(now * 0.8))}
            assert row.created_by_id == owner.pk
        finally:
            browser.close()
