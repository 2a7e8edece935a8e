"""Reads of checkout: an invoice with its lines, discounts and tenders; what a visit's invoice is
made of (the services done, at the catalogue price or the accepted quote's); what can be refunded.

Quote prices come from the clinical app's accepted quote lines attached to the visit. ``clinical``
is a sibling of ``ledger`` in the layers (neither imports the other), so the quote lines are read
through Django's app registry by model name — a read-only dependency on two tables, with no import."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db.models import QuerySet, Sum

from clinicflow.booking.models import Appointment
from clinicflow.catalogue.models import Service
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.ledger.models import (
    Invoice,
    InvoiceDiscount,
    InvoiceLine,
    InvoiceTender,
    TenderKind,
)
from clinicflow.ledger.models.accounts import AMOUNT_PLACES
from clinicflow.patients.models import Patient

ACCEPTED = "accepted"


@dataclass(frozen=True)
class LineDraft:
    """A line to be invoiced: a service (or a free description) at a unit price, with the quote's own
    discount when it came from a quote."""

    service: Service | None
    description: str
    category: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = Decimal(0)
    quote_line_ref: uuid.UUID | None = None


def invoice_get(*, org: Organization, invoice_id: object, lock: bool = False) -> Invoice:
    """One invoice of ``org`` (404 otherwise); ``lock``: its row under ``SELECT ... FOR UPDATE``."""
    pk = parse_uuid(invoice_id)
    if pk is None:
        raise NotFound("invoice not found")
    qs = Invoice.objects.for_org(org)
    qs = qs.select_for_update() if lock else qs.select_related("patient", "branch", "appointment")
    invoice = qs.filter(pk=pk).first()
    if invoice is None:
        raise NotFound("invoice not found")
    return invoice


def invoice_of_visit(*, org: Organization, appointment: Appointment) -> Invoice | None:
    return Invoice.objects.for_org(org).filter(appointment=appointment).first()


def invoice_list(*, org: Organization, patient: Patient) -> QuerySet[Invoice]:
    return Invoice.objects.for_org(org).filter(patient=patient).order_by("-created_at", "-id")


def invoice_lines(*, org: Organization, invoice: Invoice) -> list[InvoiceLine]:
    return list(
        InvoiceLine.objects.for_org(org)
        .filter(invoice=invoice)
        .select_related("service")
        .order_by("position")
    )


def invoice_discounts(*, org: Organization, invoice: Invoice) -> list[InvoiceDiscount]:
    return list(InvoiceDiscount.objects.for_org(org).filter(invoice=invoice).order_by("created_at", "id"))


def invoice_tenders(*, org: Organization, invoice: Invoice) -> list[InvoiceTender]:
    return list(InvoiceTender.objects.for_org(org).filter(invoice=invoice).order_by("created_at", "id"))


def refunded_by_tender(*, org: Organization, invoice: Invoice) -> dict[uuid.UUID, tuple[Decimal, Decimal]]:
    """Per paying tender: (amount refunded, revenue refunded) so far."""
    rows = (
        InvoiceTender.objects.for_org(org)
        .filter(invoice=invoice, kind=TenderKind.REFUND)
        .values("refund_of")
        .annotate(a=Sum("amount"), r=Sum("revenue"))
        .order_by()
    )
    return {row["refund_of"]: (_exact(row["a"]), _exact(row["r"])) for row in rows if row["refund_of"]}


def _exact(total: object) -> Decimal:
    """A summed amount at the ledger's places (SQLite sums decimals as floats)."""
    return Decimal(0) if total is None else Decimal(str(total)).quantize(Decimal(1).scaleb(-AMOUNT_PLACES))


def refunded_points(*, org: Organization, tender: InvoiceTender) -> Decimal:
    total = InvoiceTender.objects.for_org(org).filter(refund_of=tender).aggregate(s=Sum("points"))["s"]
    return _exact(total)


def visit_lines(*, org: Organization, appointment: Appointment) -> list[LineDraft]:
    """What the visit's invoice is made of: the lines of the patient's accepted quotes attached to
    the visit (their prices and discounts), else the visit's service at the price it was booked at
    (the catalogue price of that day)."""
    quoted = _accepted_quote_lines(org, appointment)
    if quoted:
        return quoted
    service = appointment.service
    return [
        LineDraft(
            service=service,
            description="",
            category=service.category,
            quantity=Decimal(1),
            unit_price=Decimal(appointment.price),
        )
    ]


def _accepted_quote_lines(org: Organization, appointment: Appointment) -> list[LineDraft]:
    if not apps.is_installed("clinicflow.clinical"):
        return []
    quote_line = apps.get_model("clinical", "QuoteLine")
    rows = (
        quote_line.objects.filter(
            organization=org,
            appointment=appointment,
            quote__status=ACCEPTED,
            quote__patient=appointment.patient,
        )
        .select_related("service")
        .order_by("quote__created_at", "position")
    )
    out = []
    for row in rows:
        gross = Decimal(row.unit_price) * Decimal(row.quantity)
        out.append(
            LineDraft(
                service=row.service,
                description=row.description,
                category=row.service.category if row.service is not None else "",
                quantity=Decimal(row.quantity),
                unit_price=Decimal(row.unit_price),
                discount=max(gross - Decimal(row.total), Decimal(0)),
                quote_line_ref=row.pk,
            )
        )
    return out
