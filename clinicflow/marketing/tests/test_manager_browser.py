"""The manager's path in a browser (headless Chromium): create an offer, build an audience watching its
count change live as a filter is set, launch a campaign to it and see its recipients."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client

from clinicflow.core.tests.chromium import ARGS, CHROMIUM
from clinicflow.marketing.models import Campaign, Offer, Recipient
from clinicflow.marketing.tests.factories import patient

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


def test_offer_audience_campaign(org, branch, users, live_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    for n in range(5):
        patient(org, n, granted=n < 3, sex="F" if n < 4 else "M")  # 3 agreed to SMS marketing
    session = Client()
    session.force_login(users["marketer"], backend="django.contrib.auth.backends.ModelBackend")
    cookie = session.cookies[settings.SESSION_COOKIE_NAME].value
    today = dt.date.today()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            ctx = browser.new_context(viewport={"width": 1280, "height": 900})
            ctx.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
            page = ctx.new_page()
            page.goto(f"{live_server.url}/marketing/offers/new/")
            page.fill("#id_name", "Spring peel")
            page.select_option("#id_kind", "percent")
            page.fill("#id_valid_from", str(today))
            page.fill("#id_valid_to", str(today + dt.timedelta(days=30)))
            page.fill("#id_percent", "15")
            page.locator('form.stacked button[type="submit"]').click()
            page.wait_for_selector("#offer-codes")
            assert Offer.objects.for_org(org).get().name == "Spring peel"

            page.goto(f"{live_server.url}/marketing/audiences/new/")
            expect(page.locator("#audience-count")).to_contain_text("5")
            page.select_option("#id_channel", "sms")
            expect(page.locator("#audience-count")).to_contain_text("3")
            # typing the name asks for the count again (after 400 ms): wait for that answer before
            # submitting, so the live server never serves the two at once on the test's one SQLite
            # connection
            with page.expect_response(lambda r: "/audiences/count" in r.url):
                page.fill("#id_name", "SMS agreed")
            page.locator('form.stacked button[type="submit"]').click()
            page.wait_for_selector("#audiences")
            assert "SMS agreed" in page.locator("#audiences").inner_text()

            page.goto(f"{live_server.url}/marketing/campaigns/new/")
            page.fill("#id_name", "Spring SMS")
            page.select_option("#id_audience", label="SMS agreed")
            page.select_option("#id_offer", label="Spring peel")
            page.fill("#id_holdout_percent", "0")
            page.fill("#id_headline_a", "Spring")
            page.fill("#id_text_a", "15% off a peel")
            page.locator('form.stacked button[type="submit"]').click()
            page.wait_for_selector("#campaign-status")
            page.once("dialog", lambda d: d.accept())
            page.get_by_role("button", name="Queue for sending").click()
            expect(page.locator("#campaign-status")).to_contain_text("Sending")
            campaign = Campaign.objects.for_org(org).get()
            assert Recipient.objects.for_org(org).filter(campaign=campaign).count() == 3
            assert "pending: 3" in page.locator("#recipient-counts").inner_text()
        finally:
            browser.close()
