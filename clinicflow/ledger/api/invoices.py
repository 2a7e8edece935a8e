"""The checkout API: invoices, their discounts, payments by several methods, refunds.

``GET`` needs ``wallet.view``; creating, paying and refunding need ``wallet.move`` and the patient's
card open to the caller with changes allowed (branch). A manual discount needs ``ledger.manage`` too.
Every money-moving call (payments, refunds) takes an ``Idempotency-Key`` header, with the wallet API's
rules (same key and request: the first answer again; same key, other request: 409). Amounts are
strings or integers (a JSON float is refused), in the invoice's currency; a refusal names its field
and posts nothing."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.utils import timezone
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.booking.selectors.appointments import appointment_get
from clinicflow.catalogue.models import Service
from clinicflow.catalogue.selectors import price_at, service_by_key
from clinicflow.core.api import ERRORS
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditAction
from clinicflow.core.selectors import branch_named
from clinicflow.ledger.api.idempotency import IdemKey, Once, idempotent_op
from clinicflow.ledger.models import Invoice
from clinicflow.ledger.selectors import invoices as selectors
from clinicflow.ledger.selectors.wallet import wallet_patient
from clinicflow.ledger.services import checkout, coupons, refunds
from clinicflow.ledger.services import invoices as services

router = Router(tags=["ledger"])
Amount = str | int
AMOUNT_DOC = 'A decimal amount as a string ("500.00") or an integer (never a JSON float).'


class LineIn(Schema):
    service: str | None = Field(default=None, max_length=64, description="A service's code or id")
    description: str = Field(default="", max_length=300)
    quantity: Amount = Field(default="1", description="Up to 2 decimals")
    unit_price: Amount | None = Field(default=None, description="Default: the catalogue price today")


class InvoiceIn(Schema):
    patient: str | None = Field(default=None, max_length=64, description="Without `appointment`")
    appointment: str | None = Field(default=None, max_length=64, description="The visit invoiced")
    branch: str | None = Field(default=None, max_length=64)
    lines: list[LineIn] | None = Field(default=None, description="Default for a visit: the services done")
    note: str = Field(default="", max_length=300)


class TenderSchema(Schema):
    method: str = Field(description="cash, card, transfer, online, balance, points or included")
    amount: Amount | None = Field(default=None, description=AMOUNT_DOC)
    points: int | None = Field(default=None, description="Whole points (method points)")
    line: int | None = Field(default=None, description="The line's position (method included)")
    membership: str | None = Field(default=None, max_length=100, description="method included")


class PaymentsIn(Schema):
    tenders: list[TenderSchema] = Field(description="One or several methods at once")


class RefundPartIn(Schema):
    payment: str = Field(max_length=64, description="A payment tender's id")
    amount: Amount


class RefundIn(Schema):
    amount: Amount = Field(description=AMOUNT_DOC)
    reason: str = Field(max_length=200)
    parts: list[RefundPartIn] | None = Field(default=None, description="Default: in proportion")


class DiscountIn(Schema):
    kind: str = Field(default="manual", description="manual (needs ledger.manage) or coupon")
    amount: Amount | None = None
    percent: Amount | None = None
    line: int | None = Field(default=None, description="A line's position; default: the whole invoice")
    reason: str = Field(default="", max_length=200)
    reference: str = Field(default="", max_length=100, description="coupon: the marketing redemption")
    code: str = Field(
        default="", max_length=32, description="coupon: a code, checked and counted by the offer's rules"
    )


class InvoiceLineOut(Schema):
    position: int
    service: uuid.UUID | None
    description: str
    category: str
    quantity: str
    unit_price: str
    discount: str
    total: str


class TenderOut(Schema):
    id: uuid.UUID
    kind: str
    method: str
    amount: str
    points: int | None
    revenue: str
    refund_of: uuid.UUID | None
    transaction: uuid.UUID | None
    payment: uuid.UUID | None
    created_at: dt.datetime


class DiscountOut(Schema):
    kind: str
    amount: str
    reason: str
    line: int | None


class InvoiceOut(Schema):
    id: uuid.UUID
    number: str
    patient: uuid.UUID
    branch: uuid.UUID
    appointment: uuid.UUID | None
    currency: str
    subtotal: str
    discount: str
    total: str
    paid: str
    refunded: str
    due: str
    status: str
    created_at: dt.datetime
    lines: list[InvoiceLineOut]
    discounts: list[DiscountOut]
    tenders: list[TenderOut]


def invoice_out(invoice: Invoice) -> dict[str, Any]:
    org = invoice.organization
    lines = selectors.invoice_lines(org=org, invoice=invoice)
    positions = {ln.pk: ln.position for ln in lines}
    return {
        "id": invoice.pk,
        "number": invoice.number,
        "patient": invoice.patient_id,
        "branch": invoice.branch_id,
        "appointment": invoice.appointment_id,
        "currency": invoice.currency,
        "subtotal": str(invoice.subtotal),
        "discount": str(invoice.discount),
        "total": str(invoice.total),
        "paid": str(invoice.paid),
        "refunded": str(invoice.refunded),
        "due": str(invoice.due),
        "status": invoice.status,
        "created_at": invoice.created_at,
        "lines": [
            {
                "position": ln.position,
                "service": ln.service_id,
                "description": ln.description,
                "category": ln.category,
                "quantity": str(ln.quantity),
                "unit_price": str(ln.unit_price),
                "discount": str(ln.discount),
                "total": str(ln.total),
            }
            for ln in lines
        ],
        "discounts": [
            {
                "kind": d.kind,
                "amount": str(d.amount),
                "reason": d.reason,
                "line": positions.get(d.line_id) if d.line_id else None,
            }
            for d in selectors.invoice_discounts(org=org, invoice=invoice)
        ],
        "tenders": [
            {
                "id": t.pk,
                "kind": t.kind,
                "method": t.method,
                "amount": str(t.amount),
                "points": int(t.points) if t.points is not None else None,
                "revenue": str(t.revenue),
                "refund_of": t.refund_of_id,
                "transaction": t.transaction_id,
                "payment": t.payment_id,
                "created_at": t.created_at,
            }
            for t in selectors.invoice_tenders(org=org, invoice=invoice)
        ],
    }


def _invoice(request: ApiRequest, invoice_id: str, *, write: bool) -> Invoice:
    org, user = request.org, request.auth
    invoice = selectors.invoice_get(org=org, invoice_id=invoice_id)
    wallet_patient(org=org, user=user, patient_id=invoice.patient_id, write=write, request=request)
    return invoice


def _service(request: ApiRequest, value: str, i: int) -> Service:
    found = service_by_key(org=request.org, key=value)
    if found is None:
        raise ValidationFailed.field(f"lines[{i}].service", "no such service")
    return found


def _decimal(value: object, name: str) -> Decimal:
    try:
        return Decimal(str(value).strip())
    except Exception as exc:
        raise ValidationFailed.field(name, "not a number") from exc


def _drafts(request: ApiRequest, data: InvoiceIn, branch: Any) -> list[selectors.LineDraft]:
    out = []
    for i, line in enumerate(data.lines or []):
        service = _service(request, line.service, i) if line.service else None
        if line.unit_price is not None:
            price = _decimal(line.unit_price, f"lines[{i}].unit_price")
        elif service is not None:
            price = price_at(org=request.org, service=service, branch=branch, day=timezone.localdate()).amount
        else:
            raise ValidationFailed.field(f"lines[{i}].unit_price", "a line without a service has a price")
        out.append(
            selectors.LineDraft(
                service=service,
                description=line.description,
                category=service.category if service else "",
                quantity=_decimal(line.quantity, f"lines[{i}].quantity"),
                unit_price=price,
            )
        )
    return out


@router.post("/invoices", response={201: InvoiceOut, **ERRORS})
@api_perm("wallet.move", audit_object="invoice")
def create(request: ApiRequest, data: InvoiceIn) -> Status[dict[str, Any]]:
    """An invoice for a visit (`appointment`: its services at the catalogue or accepted quote's
    prices, one invoice per visit, 409 for a second) or for `patient` with `lines`."""
    org, user = request.org, request.auth
    if data.appointment:
        appointment = appointment_get(org=org, appointment_id=data.appointment)
        wallet_patient(org=org, user=user, patient_id=appointment.patient_id, write=True, request=request)
        if not data.lines:
            invoice = services.invoice_for_visit(
                org=org, actor=user, appointment=appointment, request=request
            )
            return Status(201, invoice_out(invoice))
        patient, branch = appointment.patient, appointment.branch
    else:
        if not data.patient:
            raise ValidationFailed.field("patient", "name the patient or the appointment")
        patient = wallet_patient(org=org, user=user, patient_id=data.patient, write=True, request=request)
        named = branch_named(org=org, branch_id=data.branch) if data.branch else patient.branch
        if named is None:
            raise ValidationFailed.field("branch", "name the branch")
        branch, appointment = named, None
    invoice = services.invoice_create(
        org=org,
        actor=user,
        patient=patient,
        branch=branch,
        lines=_drafts(request, data, branch),
        appointment=appointment,
        note=data.note,
        request=request,
    )
    return Status(201, invoice_out(invoice))


@router.get("/invoices/{invoice_id}", response={200: InvoiceOut, **ERRORS})
@api_perm("wallet.view", audit_object="invoice")
def get(request: ApiRequest, invoice_id: str) -> dict[str, Any]:
    """The invoice: lines, discounts, payments and refunds (tenders), what is due."""
    invoice = _invoice(request, invoice_id, write=False)
    audit_record(
        org=request.org,
        actor=request.auth,
        action=AuditAction.VIEW,
        object_type="invoice",
        object_id=invoice.pk,
        request=request,
    )
    return invoice_out(invoice)


@router.post("/invoices/{invoice_id}/discounts", response={201: InvoiceOut, **ERRORS})
@api_perm("wallet.move", audit_object="invoice")
def discount(request: ApiRequest, invoice_id: str, data: DiscountIn) -> Status[dict[str, Any]]:
    """Take an amount or a percent off the invoice or a line. `manual` needs a `reason` and the
    `ledger.manage` permission. A coupon: its `code` (checked against the offer's rules — dates,
    branch, service, new or returning patient, limits — and counted; one per invoice; refusals are a
    422 naming `coupon`), or an amount already checked by the marketing app with its `reference`."""
    invoice = _invoice(request, invoice_id, write=True)
    if data.kind == "coupon" and (data.code or not data.reference):
        coupons.invoice_coupon_apply(
            org=request.org, actor=request.auth, invoice=invoice, code=data.code, request=request
        )
        return Status(201, invoice_out(selectors.invoice_get(org=request.org, invoice_id=invoice.pk)))
    services.invoice_discount_add(
        org=request.org,
        actor=request.auth,
        invoice=invoice,
        kind=data.kind,
        amount=data.amount,
        percent=data.percent,
        position=data.line,
        reason=data.reason,
        reference=data.reference,
        request=request,
    )
    return Status(201, invoice_out(selectors.invoice_get(org=request.org, invoice_id=invoice.pk)))


@router.post("/invoices/{invoice_id}/payments", response={201: InvoiceOut, **ERRORS})
@api_perm("wallet.move", audit_object="invoice")
@idempotent_op()
def pay(request: ApiRequest, invoice_id: str, data: PaymentsIn, idempotency_key: IdemKey = None) -> Once:
    """Pay with one or several methods at once; more than is due is a 409 naming `amount`; a short
    balance or too few points a 409 naming the tender (`tenders[1].amount`)."""
    invoice = _invoice(request, invoice_id, write=True)
    tenders = [
        checkout.TenderIn(
            method=t.method, amount=t.amount, points=t.points, line=t.line, membership=t.membership or ""
        )
        for t in data.tenders
    ]

    def run() -> dict[str, Any]:
        checkout.invoice_pay(
            org=request.org, actor=request.auth, invoice=invoice, tenders=tenders, request=request
        )
        return invoice_out(selectors.invoice_get(org=request.org, invoice_id=invoice.pk))

    return Once(data.dict(), run)


@router.post("/invoices/{invoice_id}/refunds", response={201: InvoiceOut, **ERRORS})
@api_perm("wallet.move", audit_object="invoice")
@idempotent_op()
def refund(request: ApiRequest, invoice_id: str, data: RefundIn, idempotency_key: IdemKey = None) -> Once:
    """Refund whole or part, back to the payments (in proportion, or as `parts` name them); more than
    was paid and not refunded is a 409 naming `amount`."""
    invoice = _invoice(request, invoice_id, write=True)
    parts = [(p.payment, p.amount) for p in data.parts] if data.parts else None

    def run() -> dict[str, Any]:
        refunds.invoice_refund(
            org=request.org,
            actor=request.auth,
            invoice=invoice,
            amount=data.amount,
            reason=data.reason,
            parts=parts,
            request=request,
        )
        return invoice_out(selectors.invoice_get(org=request.org, invoice_id=invoice.pk))

    return Once(data.dict(), run)
