"""The checkout page: a visit's invoice opened from the appointment, paid by two methods from the
page (a double submit pays once), a refund, the receipt PDF in the patient's language; roles and
another clinic's invoice."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from clinicflow.booking.models import Appointment, Payment
from clinicflow.booking.tests.factories import make_doctor, make_service
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Invoice, InvoiceTender
from clinicflow.ledger.tests.factories import make_patient

pytestmark = pytest.mark.django_db
Web = Callable[[str], Client]


def _visit(org: Organization, branch: Branch) -> Appointment:
    service = make_service(org, "peel-v", name="Peel", price=Decimal("9000"))
    doctor = make_doctor(org, branch, [service], "Dr Peel")
    patient = make_patient(org, preferred_language="ru")
    start = timezone.now() - dt.timedelta(hours=3)
    return Appointment.objects.create(
        organization=org,
        branch=branch,
        patient=patient,
        service=service,
        doctor=doctor,
        start_at=start,
        end_at=start + dt.timedelta(hours=1),
        busy_until=start + dt.timedelta(hours=1),
        status="done",
        price=Decimal("9000"),
        currency="RUB",
    )


def test_the_front_desk_checks_a_visit_out_and_prints_the_receipt(
    web: Web, org: Organization, branch: Branch
) -> None:
    visit = _visit(org, branch)
    desk = web("frontdesk")
    opened = desk.post(f"/ledger/appointments/{visit.pk}/checkout/")
    assert opened.status_code == 302
    invoice = Invoice.objects.for_org(org).get(appointment=visit)
    page = desk.get(opened["Location"])
    assert page.status_code == 200 and invoice.number in page.content.decode()
    form = {"key": "k1-pay", "cash": "4000", "card": "5000"}
    desk.post(f"/ledger/invoices/{invoice.pk}/pay/", form)
    desk.post(f"/ledger/invoices/{invoice.pk}/pay/", form)  # a double submit
    assert InvoiceTender.objects.for_org(org).count() == 2
    assert Invoice.objects.for_org(org).get().status == "paid"
    desk.post(
        f"/ledger/invoices/{invoice.pk}/refund/", {"key": "k1-refund", "amount": "900", "reason": "late"}
    )
    assert sorted((p.kind, p.method, p.amount) for p in Payment.objects.for_org(org)) == [
        ("payment", "card", Decimal(5000)),
        ("payment", "cash", Decimal(4000)),
        ("refund", "card", Decimal(500)),
        ("refund", "cash", Decimal(400)),
    ]
    pdf = desk.get(f"/ledger/invoices/{invoice.pk}/receipt.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert invoice.number in text and "Пациент" in text  # the patient's language


def test_roles_and_other_clinics(web: Web, org: Organization, branch: Branch) -> None:
    visit = _visit(org, branch)
    web("frontdesk").post(f"/ledger/appointments/{visit.pk}/checkout/")
    invoice = Invoice.objects.for_org(org).get()
    assert web("marketer").get(f"/ledger/invoices/{invoice.pk}/").status_code == 403
    assert web("outsider").get(f"/ledger/invoices/{invoice.pk}/").status_code == 404
    assert web("outsider").get(f"/ledger/invoices/{invoice.pk}/receipt.pdf").status_code == 404
    desk = web("frontdesk")
    desk.post(f"/ledger/invoices/{invoice.pk}/discount/", {"key": "d", "amount": "100", "reason": "x"})
    assert Invoice.objects.for_org(org).get().discount == 0  # the front desk gives no manual discount
    web("manager").post(
        f"/ledger/invoices/{invoice.pk}/discount/", {"key": "d2", "amount": "100", "reason": "x"}
    )
    assert Invoice.objects.for_org(org).get().total == Decimal("8900")
    assert desk.get(f"/ledger/invoices/{invoice.pk}/pay/").status_code == 405
