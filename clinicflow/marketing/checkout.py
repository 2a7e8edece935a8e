"""Coupon codes at the ledger's checkout page: marketing's redemption rules behind the ledger's hook.

The ledger sits below marketing and never imports it; ``MarketingConfig.ready`` registers
``redeem_for_invoice`` with ``clinicflow.ledger.services.coupons``. For an invoice it picks the line
the offer applies to (the first line of a service the offer covers, else the largest service line; a
free add-on: the add-on's own line), checks and counts the use with ``services.offers.redeem`` (the
offer and coupon rows locked: two tills never both take the last use) and answers the discount. Every
refusal is a 422 naming ``coupon``, with the reason: expired (or not yet valid), used up, not at this
branch, not for this service, not for new or returning patients, already used by the patient."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from clinicflow.catalogue import selectors as catalogue
from clinicflow.core.errors import NotFound, ValidationFailed
from clinicflow.core.money import Money
from clinicflow.ledger.models import Invoice
from clinicflow.ledger.services.coupons import FIELD, CouponDiscount, CouponLine
from clinicflow.marketing.models import Offer, OfferKind, PatientKind
from clinicflow.marketing.selectors import offers as selectors
from clinicflow.marketing.services import offers as services

AT_CHECKOUT = (OfferKind.PERCENT, OfferKind.FIXED, OfferKind.FREE_ADDON)


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed.field(FIELD, message)


def _line_for(offer: Offer, lines: Sequence[CouponLine]) -> CouponLine:
    priced = [ln for ln in lines if ln.service_id is not None and ln.total > 0]
    if not priced:
        raise _refuse("no service on the invoice for a coupon to apply to")
    if offer.service_ids:
        covered = [ln for ln in priced if str(ln.service_id) in offer.service_ids]
        if not covered:
            raise _refuse("not valid for the services on this invoice")
        return covered[0]
    return max(priced, key=lambda ln: (ln.total, -ln.position))


def _reason(exc: ValidationFailed, offer: Offer) -> ValidationFailed:
    """Marketing's refusal, named ``coupon`` and worded for the desk."""
    field, messages = next(iter(exc.fields.items()), ("", [exc.message]))
    message = str(messages[0]) if messages else str(exc.message)
    if field == "patient" and "already used" not in message:
        if offer.patient_kind == PatientKind.NEW:
            message = "not for returning patients: the offer is for new patients only"
        elif offer.patient_kind == PatientKind.RETURNING:
            message = "not for new patients: the offer is for returning patients only"
    elif field == "service":
        message = "not valid for this service"
    elif "branch" in message:
        message = "not valid at this branch"
    elif "used up" in message:
        message = "the offer has been used up"
    return _refuse(message)


def redeem_for_invoice(
    *,
    org: Any,
    actor: Any,
    code: str,
    invoice: Invoice,
    lines: Sequence[CouponLine],
    request: Any = None,
) -> CouponDiscount:
    """Check ``code`` against the invoice, count one use and answer the discount (see the module)."""
    coupon = selectors.coupon_by_code(org=org, code=code)
    if coupon is None:
        raise _refuse("no such code")
    offer = selectors.offer_for_coupon(org=org, coupon=coupon)
    branch = invoice.branch
    day = timezone.now().astimezone(branch.tz).date()
    if day > offer.valid_to:
        raise _refuse(f"expired on {offer.valid_to.isoformat()}")
    if day < offer.valid_from:
        raise _refuse(f"not valid before {offer.valid_from.isoformat()}")
    if offer.kind not in AT_CHECKOUT:
        raise _refuse("a bundle offer is sold as its product, not taken off an invoice")
    line = _line_for(offer, lines)
    target = line
    if offer.kind == OfferKind.FREE_ADDON:
        addon = [ln for ln in lines if ln.service_id == offer.addon_service_id and ln.total > 0]
        if not addon:
            raise _refuse("the free add-on is not on this invoice")
        target = addon[0]
    try:
        service = catalogue.service_get(org=org, service_id=line.service_id)
    except NotFound as exc:
        raise _refuse("no service on the invoice for a coupon to apply to") from exc
    checkout = services.Checkout(
        patient=invoice.patient,
        service=service,
        branch=branch,
        price=Money(line.total, invoice.currency),
        day=day,
    )
    try:
        row, quote = services.redeem(
            org=org,
            actor=actor,
            code=code,
            checkout=checkout,
            appointment_ref=invoice.appointment_id,
            request=request,
        )
    except ValidationFailed as exc:
        raise _reason(exc, offer) from exc
    amount = min(quote.discount.amount, target.total)
    return CouponDiscount(
        amount=amount, position=target.position, reference=str(row.pk), label=f"{offer.name} ({code})"
    )
