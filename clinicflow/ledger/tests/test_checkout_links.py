"""The checkout actions on the appointment page and the patient card (the ledger's template tags,
loaded by booking's and patients' templates): shown only to roles with the payment permission; the
patient's invoices page lists the visits waiting for checkout and opens them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Invoice
from clinicflow.ledger.tests.checkout_setup import make_visit

pytestmark = pytest.mark.django_db
Web = Callable[[str], Client]


def test_the_appointment_page_opens_the_visits_checkout(web: Web, org: Organization, branch: Branch) -> None:
    visit = make_visit(org, branch)
    action = f'action="/ledger/appointments/{visit.pk}/checkout/"'
    page = web("frontdesk").get(f"/booking/a/{visit.pk}/").content.decode()
    assert 'id="checkout-action"' in page and action in page and ">Checkout</button>" in page
    for role in ("doctor", "marketer"):  # no payment permission: no button
        r = web(role).get(f"/booking/a/{visit.pk}/")
        assert r.status_code in (200, 403) and action not in r.content.decode()
    desk = web("frontdesk")
    opened = desk.post(f"/ledger/appointments/{visit.pk}/checkout/")
    invoice = Invoice.objects.for_org(org).get(appointment=visit)
    assert opened["Location"] == f"/ledger/invoices/{invoice.pk}/"
    assert desk.post(f"/ledger/appointments/{visit.pk}/checkout/")["Location"] == opened["Location"]
    assert Invoice.objects.for_org(org).count() == 1
    cancelled = make_visit(org, branch, status="cancelled")
    assert 'id="checkout-action"' not in desk.get(f"/booking/a/{cancelled.pk}/").content.decode()


def test_the_patient_card_links_to_checkout_for_the_payment_roles(
    web: Web, org: Organization, branch: Branch
) -> None:
    visit = make_visit(org, branch)
    url = f"/patients/{visit.patient_id}/"
    link = f'href="/ledger/patients/{visit.patient_id}/invoices/" id="checkout-action">'
    assert link + "Checkout</a>" in web("frontdesk").get(url).content.decode()
    doctor = web("doctor").get(url)
    assert doctor.status_code == 200 and 'id="checkout-action"' not in doctor.content.decode()
    waiting = web("frontdesk").get(f"/ledger/patients/{visit.patient_id}/invoices/").content.decode()
    assert 'id="visits-waiting"' in waiting and f"/ledger/appointments/{visit.pk}/checkout/" in waiting
    web("frontdesk").post(f"/ledger/appointments/{visit.pk}/checkout/")
    after = web("frontdesk").get(f"/ledger/patients/{visit.patient_id}/invoices/").content.decode()
    invoice = Invoice.objects.for_org(org).get()
    assert 'id="visits-waiting"' not in after and invoice.number in after
    assert web("outsider").get(f"/ledger/patients/{visit.patient_id}/invoices/").status_code == 404
