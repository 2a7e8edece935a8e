"""Checkout: invoices, discounts, several tenders at once, refunds back to the tenders, and what
follows from them (booking.Payment rows the revenue reports read, points, balances)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clinicflow.accounts.models import User
from clinicflow.booking.models import Payment, PaymentKind
from clinicflow.core.errors import Conflict, PermissionDenied, ValidationFailed
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import InvoiceStatus, InvoiceTender, Posting, Transaction
from clinicflow.ledger.services.checkout import TenderIn, invoice_pay
from clinicflow.ledger.services.invoices import invoice_discount_add, split
from clinicflow.ledger.services.refunds import invoice_refund
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.ledger.services.wallet import wallet_top_up
from clinicflow.ledger.tests.factories import make_patient, make_plan, make_program, patient_balance
from clinicflow.ledger.tests.invoice_factories import journal_sums, make_invoice, tender_sums

pytestmark = pytest.mark.django_db


def _net_payments(org: Organization) -> Decimal:
    rows = Payment.objects.for_org(org)
    return sum(((-p.amount if p.kind == PaymentKind.REFUND else p.amount) for p in rows), Decimal(0))


def test_an_invoice_of_three_lines_totals_its_lines(org: Organization, branch: Branch) -> None:
    invoice = make_invoice(org, branch, make_patient(org))
    assert (invoice.subtotal, invoice.discount, invoice.total) == (Decimal(30000), Decimal(0), Decimal(30000))
    assert invoice.currency == "RUB" and invoice.status == InvoiceStatus.OPEN


def test_paying_by_cash_and_balance_posts_each_and_writes_the_revenue(
    org: Organization, branch: Branch
) -> None:
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=make_plan(org))
    invoice = make_invoice(org, branch, patient)
    tenders = invoice_pay(
        org=org,
        actor=None,
        invoice=invoice,
        tenders=[TenderIn("card", amount="10000"), TenderIn("balance", amount="20000")],
    )
    assert invoice.status == InvoiceStatus.PAID and invoice.paid == Decimal(30000)
    # the balance pays bonus first (5,000), then money (15,000): only the money is revenue now
    assert [(t.method, t.amount, t.revenue) for t in tenders] == [
        ("card", Decimal(10000), Decimal(10000)),
        ("balance", Decimal(20000), Decimal(15000)),
    ]
    assert patient_balance(org, patient, "bonus") == 0
    assert patient_balance(org, patient, "money") == Decimal(35000)
    assert sorted((p.method, p.amount) for p in Payment.objects.for_org(org)) == [
        ("card", Decimal(10000)),
        ("membership", Decimal(15000)),
    ]
    assert set(journal_sums(org).values()) == {Decimal(0)}
    assert ledger_verify(org=org).ok


def test_more_than_is_due_is_refused_and_nothing_is_posted(org: Organization, branch: Branch) -> None:
    invoice = make_invoice(org, branch, make_patient(org))
    before = Transaction.objects.for_org(org).count()
    with pytest.raises(Conflict) as err:
        invoice_pay(org=org, actor=None, invoice=invoice, tenders=[TenderIn("cash", amount="30000.01")])
    assert "amount" in err.value.fields
    with pytest.raises(ValidationFailed) as bad:
        invoice_pay(org=org, actor=None, invoice=invoice, tenders=[TenderIn("cash", amount="1.001")])
    assert "tenders[0].amount" in bad.value.fields
    with pytest.raises(ValidationFailed):
        invoice_pay(org=org, actor=None, invoice=invoice, tenders=[TenderIn("cash", amount=1.5)])
    assert Transaction.objects.for_org(org).count() == before
    assert not InvoiceTender.objects.for_org(org).exists() and not Payment.objects.for_org(org).exists()


def test_a_balance_short_of_the_payment_refuses_the_whole_checkout(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="1000", currency="RUB")
    invoice = make_invoice(org, branch, patient)
    with pytest.raises(Conflict) as err:
        invoice_pay(
            org=org,
            actor=None,
            invoice=invoice,
            tenders=[TenderIn("cash", amount="5000"), TenderIn("balance", amount="2000")],
        )
    assert "tenders[1].amount" in err.value.fields
    assert not Payment.objects.for_org(org).exists()
    assert patient_balance(org, patient, "money") == Decimal(1000)


def test_points_pay_and_are_earned_on_money_only(org: Organization, branch: Branch) -> None:
    make_program(org)  # 0.05 per rouble, laser 0.1, 1 rouble a point
    patient = make_patient(org)
    first = make_invoice(org, branch, patient, prices=("12000",))  # botox line
    invoice_pay(org=org, actor=None, invoice=first, tenders=[TenderIn("cash", amount="12000")])
    assert patient_balance(org, patient, "points", "PTS") == Decimal(600)
    second = make_invoice(org, branch, patient, prices=("1000",))
    invoice_pay(
        org=org,
        actor=None,
        invoice=second,
        tenders=[TenderIn("points", points=500), TenderIn("cash", amount="500")],
    )
    # 500 points paid 500 roubles (not revenue, earns nothing); 500 cash earned 25
    assert patient_balance(org, patient, "points", "PTS") == Decimal(600 - 500 + 25)
    assert _net_payments(org) == Decimal(12500)
    assert set(journal_sums(org).values()) == {Decimal(0)}


def test_a_manual_discount_needs_a_reason_and_the_permission(
    org: Organization, branch: Branch, users: dict[str, User]
) -> None:
    invoice = make_invoice(org, branch, make_patient(org))
    with pytest.raises(PermissionDenied):
        invoice_discount_add(
            org=org, actor=users["frontdesk"], invoice=invoice, kind="manual", amount="100", reason="x"
        )
    with pytest.raises(ValidationFailed) as err:
        invoice_discount_add(org=org, actor=users["manager"], invoice=invoice, kind="manual", amount="100")
    assert "reason" in err.value.fields
    invoice_discount_add(
        org=org, actor=users["manager"], invoice=invoice, kind="manual", percent="10", reason="complaint"
    )
    assert (invoice.discount, invoice.total) == (Decimal(3000), Decimal(27000))


def test_a_discount_never_takes_the_total_below_what_was_paid(
    org: Organization, branch: Branch, users: dict[str, User]
) -> None:
    invoice = make_invoice(org, branch, make_patient(org))
    invoice_pay(org=org, actor=None, invoice=invoice, tenders=[TenderIn("cash", amount="29000")])
    with pytest.raises(Conflict):
        invoice_discount_add(
            org=org, actor=users["owner"], invoice=invoice, kind="manual", amount="1000.01", reason="late"
        )
    invoice_discount_add(
        org=org, actor=users["owner"], invoice=invoice, kind="coupon", amount="1000", reference="r1"
    )
    assert invoice.total == Decimal(29000)


def test_a_part_refund_goes_back_to_the_tenders_in_proportion(org: Organization, branch: Branch) -> None:
    make_program(org)
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="20000", currency="RUB")
    invoice = make_invoice(org, branch, patient, prices=("30000",))
    paid = invoice_pay(
        org=org,
        actor=None,
        invoice=invoice,
        tenders=[TenderIn("cash", amount="10000"), TenderIn("balance", amount="20000")],
    )
    earned = patient_balance(org, patient, "points", "PTS")
    assert earned == Decimal(1500)
    refunds = invoice_refund(org=org, actor=None, invoice=invoice, amount="6000", reason="partly unhappy")
    assert sorted((r.refund_of_id, r.amount) for r in refunds) == sorted(
        [(paid[0].pk, Decimal(2000)), (paid[1].pk, Decimal(4000))]
    )
    assert invoice.status == InvoiceStatus.PART_REFUNDED and invoice.refunded == Decimal(6000)
    assert patient_balance(org, patient, "money") == Decimal(4000)
    assert patient_balance(org, patient, "points", "PTS") == Decimal(1500 - 300)
    assert _net_payments(org) == Decimal(24000)
    assert tender_sums(org, invoice) == (Decimal(30000), Decimal(6000))
    with pytest.raises(Conflict):
        invoice_refund(org=org, actor=None, invoice=invoice, amount="24000.01", reason="again")
    invoice_refund(org=org, actor=None, invoice=invoice, amount="24000", reason="all of it")
    assert invoice.status == InvoiceStatus.REFUNDED
    assert _net_payments(org) == 0
    assert patient_balance(org, patient, "money") == Decimal(20000)
    assert patient_balance(org, patient, "points", "PTS") == 0
    assert set(journal_sums(org).values()) == {Decimal(0)}
    assert ledger_verify(org=org).ok


def test_a_refund_of_a_bonus_goes_back_to_its_lot_never_to_cash(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=make_plan(org))
    invoice = make_invoice(org, branch, patient, prices=("4000",))
    invoice_pay(org=org, actor=None, invoice=invoice, tenders=[TenderIn("balance", amount="4000")])
    assert patient_balance(org, patient, "bonus") == Decimal(1000)
    assert not Payment.objects.for_org(org).exists()  # bonus is no revenue
    invoice_refund(org=org, actor=None, invoice=invoice, amount="4000", reason="cancelled")
    assert patient_balance(org, patient, "bonus") == Decimal(5000)
    assert not Payment.objects.for_org(org).exists()
    assert ledger_verify(org=org).ok


def test_a_refund_names_its_reason(org: Organization, branch: Branch) -> None:
    invoice = make_invoice(org, branch, make_patient(org))
    invoice_pay(org=org, actor=None, invoice=invoice, tenders=[TenderIn("cash", amount="100")])
    with pytest.raises(ValidationFailed) as err:
        invoice_refund(org=org, actor=None, invoice=invoice, amount="50")
    assert "reason" in err.value.fields
    assert not Posting.objects.for_org(org).filter(amount__gt=0, account__kind="cash").exists()


def test_split_adds_up_exactly() -> None:
    parts = split(Decimal("100.00"), [Decimal(1), Decimal(1), Decimal(1)], "RUB")
    assert parts == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]
    assert sum(parts) == Decimal("100.00")
