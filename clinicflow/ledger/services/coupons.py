"""Coupon codes at checkout: the hook the marketing app fills.

``marketing`` (offers, coupons and their redemption rules) sits above the ledger in the layers, so
the ledger never imports it and never judges a code. Marketing registers a redeemer at start-up
(``MarketingConfig.ready``: ``register_coupon_redeemer``); ``invoice_coupon_apply`` hands it the code
and the invoice's lines, and the redeemer checks the code (dates, branch, service, new or returning
patient, limits), counts one use and answers the discount and the line it goes on. The discount is
then added (``invoice_discount_add``, kind ``coupon``, the redemption's id as ``reference``) in the
same database transaction, so a refusal on either side leaves neither the use counted nor the
discount. Every refusal is a 422 (409 for the invoice's state) naming ``coupon``. One coupon per
invoice. With no redeemer registered, codes are refused."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction as db_transaction

from clinicflow.accounts.models import User
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import Organization
from clinicflow.ledger.models import DiscountKind, Invoice, InvoiceDiscount
from clinicflow.ledger.selectors.invoices import invoice_discounts, invoice_get, invoice_lines
from clinicflow.ledger.services.invoices import invoice_discount_add

FIELD = "coupon"
MAX_CODE = 32


@dataclass(frozen=True)
class CouponLine:
    """An invoice line as the redeemer sees it."""

    position: int
    service_id: uuid.UUID | None
    category: str
    total: Decimal


@dataclass(frozen=True)
class CouponDiscount:
    """The redeemer's answer: ``amount`` off line ``position`` (None: the whole invoice), the
    redemption's id (``reference``) and a label for the invoice (the offer's name)."""

    amount: Decimal
    position: int | None
    reference: str
    label: str


# (org=, actor=, code=, invoice=, lines=[CouponLine], request=) -> CouponDiscount, or ValidationFailed
Redeemer = Callable[..., CouponDiscount]

_redeemers: list[Redeemer] = []


def register_coupon_redeemer(redeemer: Redeemer) -> None:
    """Called once at start-up by the app that owns the redemption rules (the last one wins)."""
    if redeemer not in _redeemers:
        _redeemers.append(redeemer)


def coupons_available() -> bool:
    return bool(_redeemers)


def clean_code(value: object) -> str:
    code = str(value or "").strip().upper()
    if not code:
        raise ValidationFailed.field(FIELD, "enter the coupon code")
    if len(code) > MAX_CODE or not code.isascii() or not code.isalnum():
        raise ValidationFailed.field(FIELD, f"no such code (letters and digits, at most {MAX_CODE})")
    return code


def invoice_coupon_apply(
    *, org: Organization, actor: User | None, invoice: Invoice, code: object, request: object = None
) -> InvoiceDiscount:
    """Check ``code`` through the registered redeemer, count its use and take the discount off the
    invoice, atomically (see the module)."""
    clean = clean_code(code)
    if not _redeemers:
        raise ValidationFailed.field(FIELD, "coupons are not available in this installation")
    redeemer = _redeemers[-1]
    with db_transaction.atomic():
        locked = invoice_get(org=org, invoice_id=invoice.pk, lock=True)
        if locked.total - locked.paid <= 0:
            raise Conflict("the invoice is paid: nothing to take a coupon off", fields={FIELD: ["paid"]})
        if any(d.kind == DiscountKind.COUPON for d in invoice_discounts(org=org, invoice=locked)):
            raise Conflict("the invoice already has a coupon", fields={FIELD: ["one coupon per invoice"]})
        lines = [
            CouponLine(position=ln.position, service_id=ln.service_id, category=ln.category, total=ln.total)
            for ln in invoice_lines(org=org, invoice=locked)
        ]
        found = redeemer(org=org, actor=actor, code=clean, invoice=locked, lines=lines, request=request)
        if found.amount > locked.total - locked.paid:
            raise Conflict(
                "the coupon's discount is more than is left to pay", fields={FIELD: ["more than is due"]}
            )
        return invoice_discount_add(
            org=org,
            actor=actor,
            invoice=invoice,
            kind=DiscountKind.COUPON,
            amount=found.amount,
            position=found.position,
            reason=found.label[:200],
            reference=found.reference,
            request=request,
        )
