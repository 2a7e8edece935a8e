"""The marketing reports through the API: coupon redemptions with the discount given, the calendar's
budget against actual per month, and campaign results with the holdout."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client

from clinicflow.catalogue.tests.factories import make_service
from clinicflow.core.models import Branch, Organization
from clinicflow.core.money import Money
from clinicflow.marketing.services import calendar, offers
from clinicflow.marketing.tests.factories import patient

pytestmark = pytest.mark.django_db
TODAY = dt.date.today()


def test_coupon_and_calendar_reports(api: Callable[[str], Client], org: Organization, branch: Branch) -> None:
    service = make_service(org)
    offer = offers.offer_create(
        org=org, actor=None,
        data=offers.OfferData(name="Spring", kind="percent", percent=Decimal(20),
                              valid_from=TODAY - dt.timedelta(days=2), valid_to=TODAY + dt.timedelta(days=2)),
    )  # fmt: skip
    codes = offers.coupons_generate(org=org, actor=None, offer=offer, count=3)
    for n, code in enumerate(codes[:2]):
        checkout = offers.Checkout(
            patient=patient(org, n), service=service, branch=branch, price=Money.of("10000", "RUB"), day=TODAY
        )
        offers.redeem(org=org, actor=None, code=code.code, checkout=checkout)
    client = api("manager")
    r = client.get("/api/v1/reports/coupon_redemptions", {"from": str(TODAY - dt.timedelta(days=3))})
    assert r.status_code == 200, r.content
    row = r.json()["rows"][0]
    assert (row["offer"], row["codes_issued"], row["codes_used"], row["redemptions"]) == ("Spring", 3, 2, 2)
    assert row["discount"] == "4000.00" and row["list_price"] == "20000.00"
    month = TODAY.replace(day=1)
    calendar.event_add(
        org=org, actor=None, title="Launch", kind="launch", starts_on=month, ends_on=month,
        budget=Decimal(1000), actual_cost=Decimal(1200),
    )  # fmt: skip
    calendar.event_add(
        org=org, actor=None, title="Gone", kind="clinic", starts_on=month, ends_on=month, budget=Decimal(500),
        status="cancelled",
    )  # fmt: skip
    c = client.get("/api/v1/reports/calendar_budget", {"from": str(month), "to": str(month)}).json()
    assert [(x["events"], x["budget"], x["actual"], x["difference"]) for x in c["rows"]] == [
        (1, "1000.00", "1200.00", "200.00")
    ]
    assert client.get("/api/v1/reports/campaign_results").status_code == 200
    assert client.get("/api/v1/reports/ab_tests").json()["rows"] == []
    assert api("doctor").get("/api/v1/reports/campaign_results").status_code == 403
