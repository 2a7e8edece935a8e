"""The front desk's checkout page: a visit's invoice (made from the services done on first open), a
coupon code, a discount, payment by several methods at once, refunds, and the printable receipt (PDF
in the patient's language). Reading needs ``wallet.view``; every change ``wallet.move`` (a manual
discount also ``ledger.manage``, a coupon ``marketing.redeem``) and the patient's card open with
changes allowed. Each form carries a key made when the page was rendered, used as the
Idempotency-Key: a double submit pays once. The patient's invoices page lists the visits of the last
days still waiting for checkout."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.accounts.breakglass import access_record
from clinicflow.booking.models import AppointmentStatus
from clinicflow.booking.selectors.appointments import AppointmentFilters, appointment_get, appointment_list
from clinicflow.core.errors import DomainError
from clinicflow.core.models import AuditAction
from clinicflow.core.web import flash_error, get_or_404, render_in_zone
from clinicflow.ledger.models import Invoice
from clinicflow.ledger.models.invoices import CHECKOUT_METHODS, TenderKind
from clinicflow.ledger.selectors import invoices as selectors
from clinicflow.ledger.selectors.wallet import wallet_get
from clinicflow.ledger.services import checkout, coupons, refunds
from clinicflow.ledger.services import invoices as services
from clinicflow.ledger.services.idempotency import fingerprint, idempotent
from clinicflow.ledger.views.receipt import receipt_pdf
from clinicflow.messaging.rendering import language_for
from clinicflow.patients.emergency import access_of, refused
from clinicflow.patients.selectors import patient_get

# the money methods the page offers one amount field each for
PAGE_METHODS = [m for m in CHECKOUT_METHODS if m not in ("points", "included")]
COUPON_PERMISSION = "marketing.redeem"
WAITING_DAYS = 30  # visits of the last days shown as waiting for checkout on the patient's invoices
NOT_BILLED = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)


@require_POST
@require_perm("wallet.move", audit_object="invoice")
def visit_checkout(request: AuthedRequest, appointment_id: str) -> HttpResponse:
    """Open the visit's invoice (made from the services done the first time)."""
    appointment = get_or_404(appointment_get, org=request.org, appointment_id=appointment_id)
    access = access_of(request, appointment.patient)
    if not access.writes or access.break_glass:
        return refused(request, appointment.patient, access)
    try:
        invoice = services.invoice_for_visit(
            org=request.org, actor=request.user, appointment=appointment, request=request
        )
    except DomainError as exc:
        flash_error(request, exc)
        return redirect("patients:detail", appointment.patient_id)
    return redirect("ledger:checkout", invoice_id=invoice.pk)


def _page(request: AuthedRequest, invoice_id: str, *, write: bool) -> tuple[Invoice, Any]:
    invoice = get_or_404(selectors.invoice_get, org=request.org, invoice_id=invoice_id)
    access = access_of(request, invoice.patient)
    allowed = access.writes if write else access.opens
    return invoice, (None if allowed and not access.break_glass else access)


@require_GET
@require_perm("wallet.view", audit_object="invoice")
def checkout_page(request: AuthedRequest, invoice_id: str) -> HttpResponse:
    org = request.org
    invoice, denied = _page(request, invoice_id, write=False)
    if denied is not None:
        return refused(request, invoice.patient, denied)
    access_record(
        access_of(request, invoice.patient),
        org=org,
        actor=request.user,
        object_type="invoice",
        object_id=invoice.pk,
        fields=["lines", "payments"],
        request=request,
        action=AuditAction.VIEW,
    )
    tenders = selectors.invoice_tenders(org=org, invoice=invoice)
    done = selectors.refunded_by_tender(org=org, invoice=invoice)
    paying = [(t, t.amount - done.get(t.pk, (0, 0))[0]) for t in tenders if t.kind == TenderKind.PAYMENT]
    wallet = wallet_get(org=org, patient=invoice.patient)
    ctx = {
        "invoice": invoice,
        "patient": invoice.patient,
        "lines": selectors.invoice_lines(org=org, invoice=invoice),
        "discounts": selectors.invoice_discounts(org=org, invoice=invoice),
        "tenders": tenders,
        "paying": paying,
        "balance": wallet.total("money", invoice.currency) + wallet.total("bonus", invoice.currency),
        "points": wallet.total("points", "PTS"),
        "methods": PAGE_METHODS,
        "form_key": uuid.uuid4().hex,
        "can_discount": request.user.has_perm_cf("ledger.manage"),
        "can_coupon": request.user.has_perm_cf(COUPON_PERMISSION) and coupons.coupons_available(),
    }
    return render_in_zone(request, "ledger/checkout.html", ctx, branch=invoice.branch)


def _refusal(body: dict[str, Any]) -> str:
    """A refusal's message for the page; a coupon's names the field by its label."""
    error = body.get("error", {})
    reasons = error.get("fields", {}).get(coupons.FIELD)
    if reasons:
        return f"{_('Coupon code')}: {reasons[0]}"
    return str(error.get("message", ""))


def _act(request: AuthedRequest, invoice_id: str, action: str) -> HttpResponse:
    invoice, denied = _page(request, invoice_id, write=True)
    if denied is not None:
        return refused(request, invoice.patient, denied)
    if action == "coupon" and not request.user.has_perm_cf(COUPON_PERMISSION):
        messages.error(request, _("Your role may not redeem coupons."))
        return redirect("ledger:checkout", invoice_id=invoice.pk)
    org, user, data = request.org, request.user, request.POST

    def run() -> tuple[int, dict[str, Any]]:
        if action == "pay":
            tenders = [
                checkout.TenderIn(m, amount=data.get(m)) for m in PAGE_METHODS if data.get(m, "").strip()
            ]
            if data.get("points", "").strip():
                tenders.append(checkout.TenderIn("points", points=data.get("points", "").strip()))
            checkout.invoice_pay(org=org, actor=user, invoice=invoice, tenders=tenders, request=request)
        elif action == "coupon":
            coupons.invoice_coupon_apply(
                org=org, actor=user, invoice=invoice, code=data.get("coupon", ""), request=request
            )
        elif action == "refund":
            refunds.invoice_refund(
                org=org,
                actor=user,
                invoice=invoice,
                amount=data.get("amount"),
                reason=data.get("reason", ""),
                request=request,
            )
        else:
            services.invoice_discount_add(
                org=org,
                actor=user,
                invoice=invoice,
                kind="manual",
                amount=data.get("amount") or None,
                percent=data.get("percent") or None,
                reason=data.get("reason", ""),
                request=request,
            )
        return 200, {}

    payload = {k: v for k, v in data.items() if k not in ("csrfmiddlewaretoken", "key")}
    key = f"page:{data.get('key', '')[:64]}" if data.get("key") else f"page:{uuid.uuid4().hex}"
    try:
        status, body = idempotent(
            org=org, key=key, request_fingerprint=fingerprint("POST", request.path, payload), run=run
        )
    except DomainError as exc:  # a reused key with another request
        flash_error(request, exc)
    else:
        if status >= 400:
            messages.error(request, _refusal(body))
        else:
            messages.success(request, _("Saved."))
    return redirect("ledger:checkout", invoice_id=invoice.pk)


@require_POST
@require_perm("wallet.move", audit_object="invoice")
def checkout_pay(request: AuthedRequest, invoice_id: str) -> HttpResponse:
    return _act(request, invoice_id, "pay")


@require_POST
@require_perm("wallet.move", audit_object="invoice")
def checkout_coupon(request: AuthedRequest, invoice_id: str) -> HttpResponse:
    """Apply a coupon code: checked and counted by the marketing app's rules (``services.coupons``)."""
    return _act(request, invoice_id, "coupon")


@require_POST
@require_perm("wallet.move", audit_object="invoice")
def checkout_refund(request: AuthedRequest, invoice_id: str) -> HttpResponse:
    return _act(request, invoice_id, "refund")


@require_POST
@require_perm("wallet.move", audit_object="invoice")
def checkout_discount(request: AuthedRequest, invoice_id: str) -> HttpResponse:
    return _act(request, invoice_id, "discount")


@require_GET
@require_perm("wallet.view", audit_object="invoice")
def receipt(request: AuthedRequest, invoice_id: str) -> HttpResponse:
    """The receipt as PDF in the patient's language (``?lang=`` another of ours)."""
    org = request.org
    invoice, denied = _page(request, invoice_id, write=False)
    if denied is not None:
        return refused(request, invoice.patient, denied)
    access_record(
        access_of(request, invoice.patient),
        org=org,
        actor=request.user,
        object_type="invoice",
        object_id=invoice.pk,
        request=request,
        action=AuditAction.EXPORT,
    )
    pdf = receipt_pdf(
        invoice=invoice,
        lines=selectors.invoice_lines(org=org, invoice=invoice),
        discounts=selectors.invoice_discounts(org=org, invoice=invoice),
        tenders=selectors.invoice_tenders(org=org, invoice=invoice),
        language=language_for(request.GET.get("lang") or invoice.patient.preferred_language),
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{invoice.number}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@require_perm("wallet.view", audit_object="invoice")
def patient_invoices(request: AuthedRequest, patient_id: str) -> HttpResponse:
    patient = get_or_404(patient_get, org=request.org, patient_id=patient_id, with_phones=False)
    access = access_of(request, patient)
    if not access.opens or access.break_glass:
        return refused(request, patient, access)
    rows = list(selectors.invoice_list(org=request.org, patient=patient)[:100])
    invoiced = {i.appointment_id for i in rows if i.appointment_id}
    now = timezone.now()
    recent = appointment_list(
        org=request.org,
        filters=AppointmentFilters(
            patient_id=patient.pk, start_from=now - dt.timedelta(days=WAITING_DAYS), start_to=now
        ),
    ).exclude(status__in=NOT_BILLED)
    waiting = [a for a in recent.order_by("-start_at")[:20] if a.pk not in invoiced]
    ctx = {
        "patient": patient,
        "invoices": rows,
        "waiting": waiting,
        "can_pay": request.user.has_perm_cf("wallet.move") and access.writes,
    }
    return render_in_zone(request, "ledger/checkout_list.html", ctx, branch=patient.branch)


paths: list[URLPattern] = [
    path("appointments/<str:appointment_id>/checkout/", visit_checkout, name="visit_checkout"),
    path("invoices/<str:invoice_id>/", checkout_page, name="checkout"),
    path("invoices/<str:invoice_id>/pay/", checkout_pay, name="checkout_pay"),
    path("invoices/<str:invoice_id>/refund/", checkout_refund, name="checkout_refund"),
    path("invoices/<str:invoice_id>/discount/", checkout_discount, name="checkout_discount"),
    path("invoices/<str:invoice_id>/coupon/", checkout_coupon, name="checkout_coupon"),
    path("invoices/<str:invoice_id>/receipt.pdf", receipt, name="receipt"),
    path("patients/<str:patient_id>/invoices/", patient_invoices, name="patient_invoices"),
]
