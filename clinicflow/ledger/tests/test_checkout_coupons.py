"""Coupon codes on the checkout page and the API: checked and counted by marketing's rules through the
ledger's hook (the ledger never imports marketing); refusals name the coupon field and say why
(expired, used up, another branch, another service, new patients only); a refusal stores nothing."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from clinicflow.booking.tests.factories import make_service
from clinicflow.core.errors import Conflict
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Invoice, InvoiceDiscount
from clinicflow.ledger.services import coupons
from clinicflow.ledger.services.invoices import invoice_for_visit
from clinicflow.ledger.tests.checkout_setup import branch_today, make_offer, make_visit, shared_code
from clinicflow.marketing.checkout import redeem_for_invoice
from clinicflow.marketing.models import Coupon, Offer, Redemption

pytestmark = pytest.mark.django_db
Web = Callable[[str], Client]


def _apply(client: Client, invoice: Invoice, code: str, key: str = "") -> str:
    """Post the coupon form (a new page's key unless ``key``); the message the page shows next."""
    r = client.post(
        f"/ledger/invoices/{invoice.pk}/coupon/", {"key": key or uuid.uuid4().hex, "coupon": code}
    )
    assert r.status_code == 302 and r["Location"] == f"/ledger/invoices/{invoice.pk}/"
    return [str(m) for m in get_messages(r.wsgi_request)][-1]


def _invoice(org: Organization, branch: Branch, **visit: object) -> Invoice:
    return invoice_for_visit(org=org, actor=None, appointment=make_visit(org, branch, **visit))  # type: ignore[arg-type]


def test_the_hook_is_registered_by_marketing() -> None:
    assert coupons.coupons_available() and redeem_for_invoice in coupons._redeemers


def test_a_coupon_takes_its_discount_off_once_per_submit(web: Web, org: Organization, branch: Branch) -> None:
    invoice = _invoice(org, branch)
    offer = make_offer(org, branch)
    shared_code(org, offer, "PEEL20")
    desk = web("frontdesk")
    page = desk.get(f"/ledger/invoices/{invoice.pk}/").content.decode()
    assert 'id="coupon-form"' in page and "Coupon code" in page
    assert _apply(desk, invoice, "peel20", key="k1") == "Saved."
    _apply(desk, invoice, "peel20", key="k1")  # a double submit of the same form: replayed, counted once
    found = Invoice.objects.for_org(org).get()
    assert (found.subtotal, found.discount, found.total) == (
        Decimal("9000"),
        Decimal("1800"),
        Decimal("7200"),
    )
    discount = InvoiceDiscount.objects.for_org(org).get()
    redemption = Redemption.objects.for_org(org).get()
    assert (discount.kind, discount.amount, discount.reference) == (
        "coupon",
        Decimal("1800"),
        str(redemption.pk),
    )
    assert discount.reason == "Winter peel (PEEL20)"
    assert (redemption.patient_id, redemption.discount, redemption.appointment_ref) == (
        invoice.patient_id,
        Decimal("1800"),
        invoice.appointment_id,
    )
    assert Offer.objects.for_org(org).get().redeemed == 1
    # a second code on the same invoice is refused, naming the field
    again = _apply(desk, invoice, "PEEL20", key="k2")
    assert again == "Coupon code: one coupon per invoice"
    assert Redemption.objects.for_org(org).count() == 1


def _refused(web: Web, invoice: Invoice, code: str) -> str:
    before = (Redemption.objects.count(), InvoiceDiscount.objects.count())
    message = _apply(web("frontdesk"), invoice, code)
    assert (Redemption.objects.count(), InvoiceDiscount.objects.count()) == before  # nothing stored
    assert Invoice.objects.get(pk=invoice.pk).discount == 0
    return message


def test_refusals_name_the_field_and_say_why(
    web: Web, org: Organization, branch: Branch, branch2: Branch
) -> None:
    today = branch_today(branch)
    invoice = _invoice(org, branch)
    expired = make_offer(
        org, branch, valid_from=today - dt.timedelta(days=9), valid_to=today - dt.timedelta(days=2)
    )
    shared_code(org, expired, "OLD10")
    assert _refused(web, invoice, "OLD10") == (
        f"Coupon code: expired on {(today - dt.timedelta(days=2)).isoformat()}"
    )
    used_up = make_offer(org, branch, name="Once", total_limit=1)
    shared_code(org, used_up, "ONCE")
    Offer.objects.filter(pk=used_up.pk).update(redeemed=1)
    assert _refused(web, invoice, "ONCE") == "Coupon code: the offer has been used up"
    single = make_offer(org, branch, name="Single")
    Coupon.objects.create(organization=org, offer=single, code="SINGLE1", single_use=True, used=1)
    assert _refused(web, invoice, "SINGLE1") == "Coupon code: this code has already been used"
    elsewhere = make_offer(org, branch, name="Other branch", branch_ids=[str(branch2.pk)])
    shared_code(org, elsewhere, "NSK")
    assert _refused(web, invoice, "NSK") == "Coupon code: not valid at this branch"
    laser = make_service(org, "laser-x", name="Laser")
    other_service = make_offer(org, branch, name="Laser only", service_ids=[str(laser.pk)])
    shared_code(org, other_service, "LASER")
    assert _refused(web, invoice, "LASER") == "Coupon code: not valid for the services on this invoice"
    assert _refused(web, invoice, "NOSUCH") == "Coupon code: no such code"
    assert _refused(web, invoice, "BAD CODE!") == (
        "Coupon code: no such code (letters and digits, at most 32)"
    )


def test_a_new_patients_offer_is_refused_to_a_returning_patient(
    web: Web, org: Organization, branch: Branch
) -> None:
    offer = make_offer(org, branch, name="First visit", patient_kind="new")
    shared_code(org, offer, "HELLO")
    returning = make_visit(org, branch, hours_ago=24 * 30)
    invoice = _invoice(org, branch, patient=returning.patient)
    assert _refused(web, invoice, "HELLO") == (
        "Coupon code: not for returning patients: the offer is for new patients only"
    )
    newcomer = _invoice(org, branch)
    assert _apply(web("frontdesk"), newcomer, "HELLO") == "Saved."
    assert Invoice.objects.get(pk=newcomer.pk).total == Decimal("7200")


def test_roles_the_api_and_another_clinic(
    web: Web, api: Callable[[str], Client], org: Organization, branch: Branch
) -> None:
    invoice = _invoice(org, branch)
    shared_code(org, make_offer(org, branch, kind="fixed", percent=None, amount=Decimal(500)), "MINUS500")
    # a doctor has no payment permission; another clinic's user gets a 404
    assert (
        web("doctor").post(f"/ledger/invoices/{invoice.pk}/coupon/", {"coupon": "MINUS500"}).status_code
        == 403
    )
    assert (
        web("outsider").post(f"/ledger/invoices/{invoice.pk}/coupon/", {"coupon": "MINUS500"}).status_code
        == 404
    )
    assert Redemption.objects.count() == 0
    url = f"/api/v1/invoices/{invoice.pk}/discounts"
    bad = api("frontdesk").post(
        url, json.dumps({"kind": "coupon", "code": "NOPE"}), content_type="application/json"
    )
    assert bad.status_code == 422 and bad.json()["error"]["fields"] == {"coupon": ["no such code"]}
    ok = api("frontdesk").post(
        url, json.dumps({"kind": "coupon", "code": "minus500"}), content_type="application/json"
    )
    assert ok.status_code == 201, ok.content
    body = ok.json()
    assert (body["discount"], body["total"]) == ("500.00", "8500.00")
    assert body["discounts"] == [
        {"kind": "coupon", "amount": "500.00", "reason": "Winter peel (MINUS500)", "line": 1}
    ]


def test_a_refused_discount_rolls_the_counted_use_back(org: Organization, branch: Branch) -> None:
    """The use is counted and the discount added in one transaction: when the invoice refuses the
    discount (more than is left to pay), the offer's use is not counted either."""
    invoice = _invoice(org, branch)
    shared_code(org, make_offer(org, branch), "PEEL20")
    Invoice.objects.filter(pk=invoice.pk).update(paid=Decimal("8000"))  # 1,000 due; the coupon gives 1,800
    with pytest.raises(Conflict) as refused:
        coupons.invoice_coupon_apply(org=org, actor=None, invoice=invoice, code="PEEL20")
    assert refused.value.fields == {"coupon": ["more than is due"]}
    assert (Redemption.objects.count(), Offer.objects.get().redeemed) == (0, 0)
    assert InvoiceDiscount.objects.count() == 0
