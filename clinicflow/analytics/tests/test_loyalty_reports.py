"""Loyalty reports from the ledger: liability per branch (as of a past date too), membership
economics, points flow, referrals; page with chart, CSV and XLSX, and owner-only access."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from freezegun import freeze_time

from clinicflow.ledger.models import PlanKind, PlanPeriod, ReferralProgram
from clinicflow.ledger.services.memberships import membership_earn, membership_sell
from clinicflow.ledger.services.points import points_earn, points_redeem
from clinicflow.ledger.services.referrals import referral_code_for, referral_link, referral_reward
from clinicflow.ledger.services.wallet import wallet_top_up
from clinicflow.ledger.tests.factories import make_patient, make_plan, make_program

pytestmark = pytest.mark.django_db


def test_liability_today_and_on_a_past_date(api, web, org, branch) -> None:
    patient = make_patient(org, branch=branch)
    gold = make_plan(
        org, code="gold", kind=PlanKind.FEE, name="Gold", price=Decimal("36500"), credit=None,
        period=PlanPeriod.YEAR, duration_days=365,
    )  # fmt: skip
    start = timezone.now() - dt.timedelta(days=10)
    with freeze_time(start):
        m = membership_sell(org=org, actor=None, patient=patient, plan=gold)
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=make_plan(org))
    membership_earn(org=org, membership=m)
    body = api("owner").get("/api/v1/reports/loyalty_liability").json()
    row = body["rows"][0]
    assert row["prepaid"] == "35500.00"  # 10 of 365 days earned
    assert row["money"] == "50000.00" and row["bonus"] == "5000.00"
    assert body["totals"]["total"] == "90500.00"
    past = (start + dt.timedelta(days=1)).date().isoformat()
    before = api("owner").get(f"/api/v1/reports/loyalty_liability?to={past}").json()
    assert before["rows"][0]["prepaid"] == "36500.00" and before["rows"][0]["money"] == "0.00"
    assert api("marketer").get("/api/v1/reports/loyalty_liability").status_code == 403
    page = web("owner").get("/analytics/reports/loyalty_liability/")
    assert page.status_code == 200 and 'id="chart-data"' in page.content.decode()
    csv_text = web("owner").get("/analytics/reports/loyalty_liability/export.csv").content.decode("utf-8-sig")
    assert "35500" in csv_text
    assert web("owner").get("/analytics/reports/loyalty_liability/export.xlsx").status_code == 200


def test_points_flow_and_referrals(api, org, branch) -> None:
    make_program(org)
    ReferralProgram.objects.create(organization=org, currency="RUB")
    anna = make_patient(org, branch=branch, phones=["+7 916 111-11-11"])
    boris = make_patient(org, branch=branch, first_name="Boris", phones=["+7 916 222-22-22"])
    points_earn(org=org, actor=None, patient=anna, paid="20000", currency="RUB")  # 1000 points
    points_redeem(org=org, actor=None, patient=anna, points=300, currency="RUB")
    referral_link(org=org, referred=boris, code=referral_code_for(org=org, patient=anna).code)
    referral_reward(org=org, referred=boris, currency="RUB")  # 500 + 500 points
    flow = api("owner").get("/api/v1/reports/points_flow").json()
    assert flow["totals"]["earned"] == 2000 and flow["totals"]["redeemed"] == 300
    assert any("1700" in note for note in flow["notes"])
    refs = api("owner").get("/api/v1/reports/referrals").json()
    assert [(r["referred"], r["rewarded"]) for r in refs["rows"]] == [(1, 1)]


def test_membership_economics_compares_members_with_non_members(api, org, branch) -> None:
    member = make_patient(org, branch=branch)
    make_patient(org, branch=branch, first_name="Other", phones=["+7 916 333-33-33"])
    gold = make_plan(
        org, code="gold", kind=PlanKind.FEE, name="Gold", price=Decimal("12000"), credit=None,
        period=PlanPeriod.MONTH,
    )  # fmt: skip
    membership_sell(org=org, actor=None, patient=member, plan=gold)
    body = api("owner").get("/api/v1/reports/membership_economics").json()
    members = body["rows"][0]
    assert members["patients"] == 1 and members["fee_per_patient"] == "12000.00"
    assert any("new: 1" in note for note in body["notes"])
