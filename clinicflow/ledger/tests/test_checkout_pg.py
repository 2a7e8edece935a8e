"""MO-04 for checkout on PostgreSQL, with real threads and connections: two front desks paying one
invoice at the same moment never pay it twice; two refunds at once never refund more than was paid;
the same Idempotency-Key from two threads pays once. (``select_for_update`` does nothing on SQLite,
so these run on PostgreSQL only, committing for real.)"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from clinicflow.booking.models import Payment
from clinicflow.core.errors import Conflict
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Invoice, InvoiceTender
from clinicflow.ledger.services.checkout import TenderIn, invoice_pay
from clinicflow.ledger.services.idempotency import idempotent
from clinicflow.ledger.services.refunds import invoice_refund
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.ledger.services.wallet import wallet_top_up
from clinicflow.ledger.tests.factories import make_patient, patient_balance
from clinicflow.ledger.tests.invoice_factories import make_invoice
from clinicflow.ledger.tests.test_concurrency_pg import _race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_two_checkouts_of_one_invoice_pay_it_once(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="100000", currency="RUB")
    invoice = make_invoice(org, branch, patient)

    def pay(i: int) -> Any:
        return invoice_pay(
            org=org,
            actor=None,
            invoice=Invoice.objects.for_org(org).get(pk=invoice.pk),
            tenders=[TenderIn("card", amount="10000"), TenderIn("balance", amount="20000")],
        )

    results = _race(10, pay)
    assert [r for r in results if not isinstance(r, list | Conflict)] == []
    assert sum(isinstance(r, list) for r in results) == 1
    fresh = Invoice.objects.for_org(org).get(pk=invoice.pk)
    assert (fresh.paid, fresh.status) == (Decimal(30000), "paid")
    assert InvoiceTender.objects.for_org(org).count() == 2
    assert patient_balance(org, patient, "money") == Decimal(80000)
    assert ledger_verify(org=org).ok


def test_two_refunds_at_once_never_refund_more_than_was_paid(org: Organization, branch: Branch) -> None:
    invoice = make_invoice(org, branch, make_patient(org))
    invoice_pay(org=org, actor=None, invoice=invoice, tenders=[TenderIn("cash", amount="30000")])

    def refund(i: int) -> Any:
        fresh = Invoice.objects.for_org(org).get(pk=invoice.pk)
        return invoice_refund(org=org, actor=None, invoice=fresh, amount="20000", reason=f"desk {i}")

    results = _race(8, refund)
    assert sum(isinstance(r, list) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 7
    fresh = Invoice.objects.for_org(org).get(pk=invoice.pk)
    assert fresh.refunded == Decimal(20000)
    assert Payment.objects.for_org(org).filter(kind="refund").count() == 1
    assert ledger_verify(org=org).ok


def test_one_key_from_two_desks_pays_once(org: Organization, branch: Branch) -> None:
    invoice = make_invoice(org, branch, make_patient(org))

    def call(i: int) -> tuple[int, dict[str, Any]]:
        def run() -> tuple[int, dict[str, Any]]:
            fresh = Invoice.objects.for_org(org).get(pk=invoice.pk)
            tenders = invoice_pay(
                org=org, actor=None, invoice=fresh, tenders=[TenderIn("cash", amount="100")]
            )
            return 201, {"tender": str(tenders[0].pk)}

        return idempotent(org=org, key="desk", request_fingerprint="same", run=run)

    results = _race(6, call)
    assert all(r == results[0] for r in results), results
    assert InvoiceTender.objects.for_org(org).count() == 1
