"""The front desk checks a visit out in a real browser (headless Chromium): from the appointment page
to the checkout, a coupon applied, part paid by card and part from the patient's balance, the
receipt; the stored invoice, tenders, payments and the coupon's redemption are asserted."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from pypdf import PdfReader

from clinicflow.booking.models import Payment
from clinicflow.core.tests.chromium import ARGS, CHROMIUM
from clinicflow.ledger.models import Invoice, InvoiceDiscount, InvoiceTender
from clinicflow.ledger.services.wallet import wallet_top_up
from clinicflow.ledger.tests.checkout_setup import make_offer, make_visit, shared_code
from clinicflow.ledger.tests.factories import patient_balance
from clinicflow.marketing.models import Redemption

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


def test_front_desk_checks_out_with_a_coupon_card_and_balance(  # type: ignore[no-untyped-def]
    org, branch, users, live_server, monkeypatch
) -> None:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    visit = make_visit(org, branch)  # the 9,000 RUB peel, done an hour ago
    patient = visit.patient
    wallet_top_up(org=org, actor=None, patient=patient, amount="5000", currency="RUB")
    shared_code(org, make_offer(org, branch), "WINTER20")  # 20 % off: 1,800
    session = Client()
    session.force_login(users["frontdesk"], backend="django.contrib.auth.backends.ModelBackend")
    cookie = session.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
            )
            page = context.new_page()
            page.goto(f"{live_server.url}/booking/a/{visit.pk}/")
            page.locator("#checkout-action button").click()
            page.wait_for_selector("#invoice-lines")
            invoice = Invoice.objects.for_org(org).get(appointment=visit)
            assert page.url == f"{live_server.url}/ledger/invoices/{invoice.pk}/"
            assert invoice.number in page.locator("h1").inner_text()

            page.get_by_label("Coupon code").fill("winter20")
            page.locator("#coupon-form button").click()
            page.wait_for_selector("#invoice-lines")
            assert "7,200" in page.locator("#invoice-total").inner_text()
            assert "Winter peel (WINTER20)" in page.content()

            page.locator("#pay-card").fill("3000")
            page.locator("#pay-balance").fill("4200")
            page.locator("#pay-form button").click()
            page.wait_for_selector("#invoice-tenders")
            assert page.locator("#invoice-status").inner_text().strip() == "Paid"
            assert "0.00" in page.locator("#invoice-due").inner_text()
            rows = page.locator("#invoice-tenders tbody tr").all_inner_texts()
            assert len(rows) == 2 and any("Card" in r for r in rows) and any("Balance" in r for r in rows)

            href = page.locator("#receipt-link").get_attribute("href")
            receipt = page.request.get(f"{live_server.url}{href}")
            assert receipt.status == 200 and receipt.headers["content-type"] == "application/pdf"
            text = "".join(pg.extract_text() for pg in PdfReader(io.BytesIO(receipt.body())).pages)
            assert invoice.number in text
        finally:
            browser.close()

    invoice = Invoice.objects.for_org(org).get(appointment=visit)
    assert (invoice.subtotal, invoice.discount, invoice.total, invoice.paid, invoice.status) == (
        Decimal("9000"),
        Decimal("1800"),
        Decimal("7200"),
        Decimal("7200"),
        "paid",
    )
    discount = InvoiceDiscount.objects.for_org(org).get(invoice=invoice)
    redemption = Redemption.objects.for_org(org).get()
    assert (discount.kind, discount.amount, discount.reference) == (
        "coupon",
        Decimal("1800"),
        str(redemption.pk),
    )
    tenders = sorted(
        (t.kind, t.method, t.amount) for t in InvoiceTender.objects.for_org(org).filter(invoice=invoice)
    )
    assert tenders == [("payment", "balance", Decimal("4200")), ("payment", "card", Decimal("3000"))]
    payments = sorted(
        (p.kind, p.method, p.amount) for p in Payment.objects.for_org(org).filter(patient=patient)
    )
    assert payments == [("payment", "card", Decimal("3000")), ("payment", "membership", Decimal("4200"))]
    assert patient_balance(org, patient, "money") == Decimal("800")
