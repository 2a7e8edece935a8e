"""The simulator writes every paid visit through checkout's tables: one invoice per visit, paid in
full by one tender linked to its booking.Payment, each with a balanced journal transaction; the
revenue the reports read (Payment rows) equals the invoices' net and the engine's planted revenue."""

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
    assert invoices.count() == visits.count() > 50
    assert invoices.filter(status="paid").count() == invoices.count()
    paid = invoices.aggregate(s=Sum("paid"))["s"]
    assert paid == visits.aggregate(s=Sum("amount"))["s"]
    linked = set(InvoiceTender.objects.for_org(org).values_list("payment_id", flat=True))
    assert linked == set(visits.values_list("id", flat=True))
    revenue = Posting.objects.for_org(org).filter(account__kind="revenue", transaction__kind="payment")
    assert revenue.aggregate(s=Sum("amount"))["s"] == paid
    assert sum((p.amount for p in Posting.objects.for_org(org).filter(unit="RUB")), Decimal(0)) == 0
    report = ledger_verify(org=org)
    assert report.ok, report.mismatches[:5]
