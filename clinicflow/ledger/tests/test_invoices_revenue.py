"""One definition of revenue: checkout writes the money received as booking.Payment rows (refunds as
``kind=refund``), so the owner's revenue facts and the lifetime-value inputs read invoices net of
refunds; the data migration gives every earlier Payment row an invoice (and its journal postings)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib import import_module

import pytest
from django.apps import apps
from django.db.models import Sum
from django.utils import timezone

from clinicflow.analytics.models import RevenueFact
from clinicflow.analytics.owner import facts
from clinicflow.analytics.owner.patients import value_to_date
from clinicflow.booking.models import Payment
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Invoice, InvoiceTender, Posting
from clinicflow.ledger.services.checkout import TenderIn, invoice_pay
from clinicflow.ledger.services.refunds import invoice_refund
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.ledger.services.wallet import wallet_top_up
from clinicflow.ledger.tests.factories import make_patient, make_plan
from clinicflow.ledger.tests.invoice_factories import make_invoice

pytestmark = pytest.mark.django_db


def test_revenue_and_lifetime_value_are_net_of_refunds(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=make_plan(org))
    invoice = make_invoice(org, branch, patient, prices=("20000", "10000"))
    invoice_pay(
        org=org,
        actor=None,
        invoice=invoice,
        tenders=[TenderIn("cash", amount="20000"), TenderIn("balance", amount="10000")],
    )
    # cash 20,000 + balance money 5,000 (the 5,000 bonus is no revenue); then a 3,000 refund
    invoice_refund(
        org=org,
        actor=None,
        invoice=invoice,
        amount="3000",
        reason="x",
        parts=[(invoice_tenders_cash(org), "3000")],
    )
    assert value_to_date(org=org, currency="RUB") == {patient.pk: Decimal(22000)}
    today = timezone.localdate()
    facts.build(org, today - dt.timedelta(days=1), today + dt.timedelta(days=1))  # any branch's local day
    total = RevenueFact.objects.for_org(org).aggregate(s=Sum("amount"))["s"]
    assert Decimal(total) == Decimal(22000)


def invoice_tenders_cash(org: Organization) -> str:
    return str(InvoiceTender.objects.for_org(org).get(method="cash", kind="payment").pk)


def test_the_migration_gives_earlier_payments_invoices(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    now = timezone.now()
    common = {"organization": org, "patient": patient, "branch": branch, "currency": "RUB", "paid_at": now}
    Payment.objects.create(amount=Decimal(1000), method="card", **common)
    Payment.objects.create(amount=Decimal(500), method="membership", **common)
    Payment.objects.create(amount=Decimal(200), method="card", kind="refund", note="no visit", **common)
    migration = import_module("clinicflow.ledger.migrations.0006_invoices_from_payments")
    migration.forward(apps, None)
    migration.forward(apps, None)  # idempotent: linked payments are skipped
    invoices = list(Invoice.objects.for_org(org).order_by("total"))
    # two payments with no visit: an invoice each; the lone refund (nothing to refund) gets none
    assert [(i.total, i.paid, i.refunded, i.source) for i in invoices] == [
        (Decimal(500), Decimal(500), Decimal(0), "migrated"),
        (Decimal(1000), Decimal(1000), Decimal(0), "migrated"),
    ]
    assert sorted(t.method for t in InvoiceTender.objects.for_org(org)) == ["card", "membership"]
    assert (
        Posting.objects.for_org(org).filter(account__kind="revenue").aggregate(s=Sum("amount"))["s"] == 1500
    )
    assert ledger_verify(org=org).ok
