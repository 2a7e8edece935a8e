"""The simulator's loyalty through the ledger: memberships, points and referrals are balanced journal
transactions (``ledger verify`` clean), and the loyalty reports recover the planted truth — the
membership mix within sampling error, points earned and redeemed exactly."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from decimal import Decimal

import pytest

from clinicflow.analytics.reports import loyalty  # registers the loyalty reports
from clinicflow.analytics.reports.base import REGISTRY, build_context, run_report
from clinicflow.core.models import Organization
from clinicflow.ledger.models import Membership, Posting, Referral, ReferralStatus
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import MEMBERSHIP_KINDS, load_scenario

NOW = dt.datetime(2026, 6, 30, 11, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Moscow"))
SCENARIO = {"clinic": {"months": 4, "demand_factor": 1.0}, "loyalty": {"membership_probability": 0.3}}


@pytest.mark.django_db
def test_loyalty_is_written_through_the_ledger_and_recovered_by_the_reports(org: Organization) -> None:
    result = simulate_org(org=org, scenario=load_scenario("mid", overrides=SCENARIO), seed=5, now=NOW)
    truth = result.truth["loyalty"]
    report = ledger_verify(org=org)
    assert report.ok, report.mismatches[:5]
    assert report.postings > 100
    # every membership sold is on the ledger: as many per plan kind as the engine sold
    sold = truth["realised"]["memberships"]
    # (first sales: renewals continue a membership, ``renewed_from``; plans are per procedure)
    sales = Membership.objects.for_org(org).filter(renewed_from__isnull=True)
    counts = {k: sales.filter(plan__kind=k).count() for k in MEMBERSHIP_KINDS}
    assert counts == sold
    total = sum(counts.values())
    assert total > 50
    # the planted mix is recovered within sampling error (3 standard errors)
    mix = truth["planted"]["membership_mix"]
    weight = sum(mix.values())
    for kind, n in counts.items():
        p = mix[kind] / weight
        assert abs(n / total - p) < 3 * math.sqrt(p * (1 - p) / total) + 1e-9, (kind, n, total, p)
    # points: the report's earned and redeemed are the engine's (plus 500 a side per referral)
    referrals = Referral.objects.for_org(org).filter(status=ReferralStatus.REWARDED).count()
    spec = REGISTRY["points_flow"]
    assert loyalty.HELD
    ctx = build_context(spec, org=org, user=None, query={"from": "2020-01-01", "to": "2026-06-30"})
    flow = run_report(spec, ctx)
    assert flow.totals is not None
    assert flow.totals["earned"] == truth["realised"]["points_earned"] + 2 * 500 * referrals
    assert flow.totals["redeemed"] == truth["realised"]["points_redeemed"]
    # the prepaid fees are being earned: liability is below what was sold and not negative
    prepaid = sum(
        (p.amount for p in Posting.objects.for_org(org).filter(account__kind="prepaid")), Decimal(0)
    )
    sold_fees = sum((m.price for m in Membership.objects.for_org(org).filter(lot__isnull=False)), Decimal(0))
    assert Decimal(0) <= prepaid < sold_fees
