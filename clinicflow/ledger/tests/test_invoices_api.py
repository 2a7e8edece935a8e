"""The checkout API: an invoice per visit (catalogue or accepted quote prices), payments by several
methods with idempotency keys, refunds, refusals naming their field, roles and tenant isolation."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from clinicflow.booking.models import Appointment, Payment
from clinicflow.booking.tests.factories import make_doctor, make_service
from clinicflow.clinical.models.consultations import Consultation, Quote, QuoteLine
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Invoice, InvoiceTender, Transaction
from clinicflow.ledger.tests.factories import make_patient, patient_balance
from clinicflow.ledger.tests.invoice_factories import make_invoice
from clinicflow.patients.models import Patient

pytestmark = pytest.mark.django_db
Api = Callable[[str], Client]


def _post(client: Client, url: str, body: dict[str, Any], key: str | None = "k-1") -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def _visit(org: Organization, branch: Branch, patient: Patient, price: str = "12000") -> Appointment:
    service = make_service(org, "laser-visit", name="Laser", price=Decimal(price))
    doctor = make_doctor(org, branch, [service], "Dr Laser")
    start = timezone.now() - dt.timedelta(days=1)
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
        price=Decimal(price),
        currency="RUB",
    )


def test_a_visit_is_invoiced_at_its_price_once(api: Api, org: Organization, branch: Branch) -> None:
    visit = _visit(org, branch, make_patient(org))
    client = api("frontdesk")
    r = _post(client, "/api/v1/invoices", {"appointment": str(visit.pk)}, key=None)
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["total"], body["due"], body["status"]) == ("12000.00", "12000.00", "open")
    assert [(ln["service"], ln["unit_price"]) for ln in body["lines"]] == [
        (str(visit.service_id), "12000.00")
    ]
    again = _post(
        client,
        "/api/v1/invoices",
        {"appointment": str(visit.pk), "lines": [{"description": "x", "unit_price": "1"}]},
    )
    assert again.status_code == 409


def test_an_accepted_quote_gives_the_visit_its_prices(api: Api, org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    visit = _visit(org, branch, patient)
    consultation = Consultation.objects.create(
        organization=org,
        appointment=visit,
        patient=patient,
        doctor=visit.doctor,
        branch=branch,
        category="laser",
        expectation=7,
    )
    today = timezone.localdate()
    quote = Quote.objects.create(
        organization=org,
        consultation=consultation,
        patient=patient,
        doctor=visit.doctor,
        branch=branch,
        priced_on=today,
        valid_until=today,
        currency="RUB",
        total=Decimal("9000"),
        status="accepted",
    )
    QuoteLine.objects.create(
        organization=org,
        quote=quote,
        position=1,
        kind="procedure",
        service=visit.service,
        unit_price=Decimal("10000"),
        quantity=Decimal(1),
        discount_kind="amount",
        discount_value=Decimal(1000),
        discount_reason="course",
        total=Decimal("9000"),
        appointment=visit,
    )
    r = _post(api("frontdesk"), "/api/v1/invoices", {"appointment": str(visit.pk)}, key=None)
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["subtotal"], body["discount"], body["total"]) == ("10000.00", "1000.00", "9000.00")
    assert body["discounts"] == [{"kind": "quote", "amount": "1000.00", "reason": "quote", "line": 1}]


def test_pay_by_two_methods_replays_with_the_same_key(api: Api, org: Organization, branch: Branch) -> None:
    invoice = make_invoice(org, branch, make_patient(org))
    client = api("frontdesk")
    url = f"/api/v1/invoices/{invoice.pk}/payments"
    body = {"tenders": [{"method": "cash", "amount": "10000"}, {"method": "card", "amount": 20000}]}
    first = _post(client, url, body, key="pay-1")
    assert first.status_code == 201, first.content
    second = _post(client, url, body, key="pay-1")
    assert (second.status_code, second.json()) == (201, first.json())
    assert first.json()["status"] == "paid"
    assert InvoiceTender.objects.for_org(org).count() == 2
    assert Payment.objects.for_org(org).count() == 2
    other = _post(client, url, {"tenders": [{"method": "cash", "amount": "1"}]}, key="pay-1")
    assert other.status_code == 409


def test_refusals_name_their_field_and_post_nothing(api: Api, org: Organization, branch: Branch) -> None:
    invoice = make_invoice(org, branch, make_patient(org))
    client = api("frontdesk")
    url = f"/api/v1/invoices/{invoice.pk}/payments"
    cases = [
        ({"tenders": [{"method": "cash", "amount": 10.5}]}, 422, "tenders"),
        ({"tenders": [{"method": "cash", "amount": "-1"}]}, 422, "tenders[0].amount"),
        ({"tenders": [{"method": "gold", "amount": "1"}]}, 422, "tenders[0].method"),
        ({"tenders": [{"method": "cash", "amount": "30001"}]}, 409, "amount"),
        ({"tenders": [{"method": "balance", "amount": "100"}]}, 409, "tenders[0].amount"),
        ({"tenders": []}, 422, "tenders"),
    ]
    for i, (body, status, field) in enumerate(cases):
        r = _post(client, url, body, key=f"bad-{i}")
        assert r.status_code == status, (body, r.content)
        fields = r.json().get("error", {}).get("fields") or {}
        assert field in fields or field in json.dumps(r.json()), (body, r.json())
    assert _post(client, url, {"tenders": [{"method": "cash", "amount": "1"}]}, key=None).status_code == 422
    assert not Transaction.objects.for_org(org).exists()


def test_refund_via_the_api_and_the_revenue_rows_follow(api: Api, org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    invoice = make_invoice(org, branch, patient)
    client = api("frontdesk")
    _post(
        client,
        f"/api/v1/invoices/{invoice.pk}/payments",
        {"tenders": [{"method": "cash", "amount": "30000"}]},
    )
    r = _post(
        client, f"/api/v1/invoices/{invoice.pk}/refunds", {"amount": "5000", "reason": "late"}, key="r-1"
    )
    assert r.status_code == 201, r.content
    assert (r.json()["refunded"], r.json()["status"]) == ("5000.00", "part_refunded")
    assert sorted((p.kind, p.amount) for p in Payment.objects.for_org(org)) == [
        ("payment", Decimal(30000)),
        ("refund", Decimal(5000)),
    ]
    too_much = _post(
        client, f"/api/v1/invoices/{invoice.pk}/refunds", {"amount": "25001", "reason": "x"}, key="r-2"
    )
    assert too_much.status_code == 409 and "amount" in too_much.json()["error"]["fields"]
    assert patient_balance(org, patient, "money") == 0


def test_roles_and_tenants(api: Api, org: Organization, branch: Branch) -> None:
    invoice = make_invoice(org, branch, make_patient(org))
    assert api("marketer").get(f"/api/v1/invoices/{invoice.pk}").status_code == 403
    assert api("doctor").get(f"/api/v1/invoices/{invoice.pk}").status_code == 403
    outsider = api("outsider").get(f"/api/v1/invoices/{invoice.pk}")
    assert outsider.status_code == 404 and invoice.number not in outsider.content.decode()
    paid = _post(
        api("outsider"),
        f"/api/v1/invoices/{invoice.pk}/payments",
        {"tenders": [{"method": "cash", "amount": "1"}]},
    )
    assert paid.status_code == 404
    manual = _post(
        api("frontdesk"), f"/api/v1/invoices/{invoice.pk}/discounts", {"amount": "100", "reason": "x"}
    )
    assert manual.status_code == 403
    ok = _post(api("manager"), f"/api/v1/invoices/{invoice.pk}/discounts", {"amount": "100", "reason": "x"})
    assert ok.status_code == 201 and ok.json()["total"] == "29900.00"
    assert Invoice.objects.for_org(org).get().total == Decimal("29900.00")
