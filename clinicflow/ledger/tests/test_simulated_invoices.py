"""The simulator writes every paid visit through checkout's tables: one invoice per visit, paid in
full — by tenders linked to their booking.Payment for money from outside, or from a balance or a
membership's included procedure — each with a balanced journal transaction; the reports' Payment rows
equal the tenders' revenue (money received, never a bonus or an included procedure)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from django.db.models import Sum

from clinicflow.booking.models import Payment
from clinicflow.core.models import Organization
from clinicflow.ledger.models import Invoice, InvoiceTender, Posting
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

NOW = dt.datetime(2026, 6, 30, 11, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Moscow"))


@pytest.mark.django_db
def test_simulated_visits_are_invoiced_and_posted(org: Organization) -> None:
    scenario = load_scenario("mid", overrides={"clinic": {"months": 2, "demand_factor": 0.5}})
    simulate_org(org=org, scenario=scenario, seed=3, now=NOW)
    visits = Payment.objects.for_org(org).filter(appointment__isnull=False)
    invoices = Invoice.objects.for_org(org)
    tenders = InvoiceTender.objects.for_org(org)
    assert invoices.count() >= visits.count() > 50
    assert invoices.filter(status="paid").count() == invoices.count()
    # money from outside is one booking.Payment per tender; a member's included procedure and a
    # balance spend are tenders without one (no money came in)
    linked = set(tenders.filter(payment__isnull=False).values_list("payment_id", flat=True))
    assert linked == set(visits.values_list("id", flat=True))
    inside = tenders.filter(payment__isnull=True)
    assert set(inside.values_list("method", flat=True)) <= {"balance", "included"}
    paid = invoices.aggregate(s=Sum("paid"))["s"]
    assert paid == tenders.aggregate(s=Sum("amount"))["s"]
    # revenue is the money received: card, cash, … and the money part of a balance, never its bonus
    # part or an included procedure; the reports' Payment rows say the same
    received = visits.aggregate(s=Sum("amount"))["s"]
    assert received == tenders.aggregate(s=Sum("revenue"))["s"]
    assert received < paid or not inside.exists()
    # the ledger's revenue account settles every tender (bonus included, docs/ledger.md): outside money
    # arrives there through kind "payment"
    outside = tenders.filter(method__in=["cash", "card", "transfer", "online"])
    revenue = Posting.objects.for_org(org).filter(account__kind="revenue", transaction__kind="payment")
    assert revenue.aggregate(s=Sum("amount"))["s"] == outside.aggregate(s=Sum("amount"))["s"]
    assert sum((p.amount for p in Posting.objects.for_org(org).filter(unit="RUB")), Decimal(0)) == 0
    report = ledger_verify(org=org)
    assert report.ok, report.mismatches[:5]
