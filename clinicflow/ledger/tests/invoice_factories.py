"""Factories of the checkout tests: services, an invoice of lines, a patient with a balance."""

from __future__ import annotations

from decimal import Decimal

from clinicflow.booking.tests.factories import make_service
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Invoice, InvoiceTender, Posting
from clinicflow.ledger.selectors.invoices import LineDraft
from clinicflow.ledger.services.invoices import invoice_create
from clinicflow.patients.models import Patient


def services(org: Organization) -> list[Service]:
    found = list(Service.objects.for_org(org).filter(code__in=["laser", "botox", "peel"]).order_by("code"))
    if found:
        return found
    return [
        make_service(org, "botox", name="Botox", category="injection", price=Decimal("15000.00")),
        make_service(org, "laser", name="Laser", category="laser", price=Decimal("12000.00")),
        make_service(org, "peel", name="Peel", category="cosmetology", price=Decimal("3000.00")),
    ]


def draft(service: Service, quantity: str = "1", price: str | None = None) -> LineDraft:
    return LineDraft(
        service=service,
        description="",
        category=service.category,
        quantity=Decimal(quantity),
        unit_price=Decimal(price) if price is not None else Decimal(service.price),
    )


def make_invoice(
    org: Organization, branch: Branch, patient: Patient, prices: tuple[str, ...] = ("15000", "12000", "3000")
) -> Invoice:
    found = services(org)
    lines = [draft(found[i % len(found)], price=p) for i, p in enumerate(prices)]
    return invoice_create(org=org, actor=None, patient=patient, branch=branch, lines=lines)


def journal_sums(org: Organization) -> dict[str, Decimal]:
    """Per unit, the sum of every posting of the organisation (0 when the journal balances)."""
    out: dict[str, Decimal] = {}
    for p in Posting.objects.for_org(org):
        out[p.unit] = out.get(p.unit, Decimal(0)) + p.amount
    return out


def tender_sums(org: Organization, invoice: Invoice) -> tuple[Decimal, Decimal]:
    rows = InvoiceTender.objects.for_org(org).filter(invoice=invoice)
    paid = sum((t.amount for t in rows if t.kind == "payment"), Decimal(0))
    refunded = sum((t.amount for t in rows if t.kind == "refund"), Decimal(0))
    return paid, refunded
