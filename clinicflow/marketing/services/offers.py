"""Offers, coupon batches and redemption.

``redeem`` is what checkout calls: it checks the offer (dates, branch, service, new/returning, the
limits per patient and overall, a single-use code used once) and counts the use in one transaction,
with the offer and the coupon rows locked, so two tills cannot both take the last use. Every refusal is
a ``ValidationFailed`` naming the field, and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.booking.selectors.appointments import has_earlier_visit
from clinicflow.catalogue.models import Product, Service
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed, require_choice
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.money import Money, quantize
from clinicflow.core.selectors import parse_uuid
from clinicflow.marketing.models import Coupon, Offer, OfferKind, PatientKind, Redemption
from clinicflow.marketing.selectors import offers as selectors
from clinicflow.patients.models import Patient

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a code read aloud at the desk or typed from a phone is never ambiguous.
ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 8
MAX_BATCH = 100_000
MAX_DAYS = 366 * 3


@dataclass(frozen=True)
class OfferData:
    name: str
    kind: str
    valid_from: dt.date
    valid_to: dt.date
    percent: Decimal | None = None
    amount: Decimal | None = None
    currency: str = ""
    addon_service: Service | None = None
    product: Product | None = None
    branch_ids: Sequence[str] = ()
    service_ids: Sequence[str] = ()
    patient_kind: str = PatientKind.ANY
    per_patient_limit: int = 1
    total_limit: int | None = None


def _check(data: OfferData) -> None:
    if not data.name.strip() or len(data.name) > 200:
        raise ValidationFailed.field("name", "is required, at most 200 characters")
    require_choice("kind", data.kind, OfferKind.values)
    require_choice("patient_kind", data.patient_kind, PatientKind.values)
    if data.valid_to < data.valid_from:
        raise ValidationFailed.field("valid_to", "must not be before valid_from")
    if (data.valid_to - data.valid_from).days > MAX_DAYS:
        raise ValidationFailed.field("valid_to", "an offer runs at most three years")
    if data.kind == OfferKind.PERCENT:
        if data.percent is None or not Decimal(0) < data.percent <= Decimal(100):
            raise ValidationFailed.field("percent", "must be more than 0 and at most 100")
    elif data.percent is not None:
        raise ValidationFailed.field("percent", "only a percentage discount has a percent")
    if data.kind == OfferKind.FIXED and (data.amount is None or data.amount <= 0):
        raise ValidationFailed.field("amount", "a fixed discount needs an amount above 0")
    if data.kind == OfferKind.FREE_ADDON and data.addon_service is None:
        raise ValidationFailed.field("addon_service", "a free add-on names the service given free")
    if data.kind == OfferKind.BUNDLE and data.product is None:
        raise ValidationFailed.field("product", "a bundle names its packaged product")
    if data.per_patient_limit < 1:
        raise ValidationFailed.field("per_patient_limit", "must be at least 1")
    if data.total_limit is not None and data.total_limit < 1:
        raise ValidationFailed.field("total_limit", "must be at least 1 or empty")


def _ids(org: Organization, name: str, ids: Sequence[str], known: set[str]) -> list[str]:
    wanted = sorted({str(i) for i in ids})
    unknown = [i for i in wanted if i not in known]
    if unknown:
        raise ValidationFailed.field(name, f"unknown id {unknown[0]}")
    return wanted


@transaction.atomic
def offer_create(
    *, org: Organization, actor: AbstractBaseUser | None, data: OfferData, request: HttpRequest | None = None
) -> Offer:
    """A new offer; 422 naming the field for any bad value, and nothing stored."""
    _check(data)
    currency = (data.currency or org.currency).upper()
    if data.amount is not None and quantize(data.amount, currency) != data.amount:
        raise ValidationFailed.field("amount", f"has more decimal places than {currency} allows")
    for name, obj in (("addon_service", data.addon_service), ("product", data.product)):
        if obj is not None and obj.organization_id != org.pk:
            raise ValidationFailed.field(name, f"unknown {name}")
    branches = _ids(org, "branch_ids", data.branch_ids, selectors.branch_ids(org=org))
    services = _ids(
        org, "service_ids", data.service_ids, selectors.service_ids(org=org, among=data.service_ids)
    )
    offer = Offer.objects.create(
        organization=org,
        name=data.name.strip(),
        kind=data.kind,
        percent=data.percent,
        amount=data.amount,
        currency=currency,
        addon_service=data.addon_service,
        product=data.product,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        branch_ids=branches,
        service_ids=services,
        patient_kind=data.patient_kind,
        per_patient_limit=data.per_patient_limit,
        total_limit=data.total_limit,
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="offer",
        object_id=offer.pk,
        fields=["name", "kind", "percent", "amount", "valid_from", "valid_to"],
        request=request,
    )
    return offer


def new_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


@transaction.atomic
def coupons_generate(
    *,
    org: Organization,
    actor: AbstractBaseUser | None,
    offer: Offer,
    count: int,
    request: HttpRequest | None = None,
) -> list[Coupon]:
    """A batch of single-use codes for the offer (random, from an unambiguous alphabet)."""
    if offer.organization_id != org.pk:
        raise ValidationFailed.field("offer", "unknown offer")
    if not 1 <= count <= MAX_BATCH:
        raise ValidationFailed.field("count", f"must be 1..{MAX_BATCH}")
    batch = timezone.now().strftime("%Y%m%d%H%M%S")
    codes: set[str] = set()
    while len(codes) < count:
        codes |= {new_code() for _ in range(count - len(codes))}
        codes -= selectors.codes_taken(org=org, codes=codes)
    coupons = [
        Coupon(organization=org, offer=offer, code=c, single_use=True, batch=batch) for c in sorted(codes)
    ]
    Coupon.objects.bulk_create(coupons, batch_size=2000)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="coupon_batch",
        object_id=offer.pk,
        fields=["count"],
        request=request,
    )
    return coupons


@dataclass(frozen=True)
class Checkout:
    """What is being paid: the patient, the service at a branch on a day, and its price."""

    patient: Patient
    service: Service
    branch: Branch
    price: Money
    day: dt.date


@dataclass(frozen=True)
class Quote:
    offer: Offer
    coupon: Coupon | None
    discount: Money
    to_pay: Money


def _discount(offer: Offer, price: Money) -> Money:
    if offer.kind == OfferKind.PERCENT and offer.percent is not None:
        return Money(quantize(price.amount * offer.percent / 100, price.currency), price.currency)
    if offer.kind == OfferKind.FIXED and offer.amount is not None:
        if offer.currency != price.currency:
            raise ValidationFailed.field("code", f"the offer is in {offer.currency}")
        return Money(min(offer.amount, price.amount), price.currency)
    if offer.kind == OfferKind.FREE_ADDON and offer.addon_service is not None:
        return Money(offer.addon_service.price, offer.addon_service.currency)
    if offer.kind == OfferKind.BUNDLE and offer.product is not None:
        full = selectors.bundle_list_value(org=offer.organization, product=offer.product)
        return Money(max(Decimal(0), full - offer.product.price), offer.product.currency)
    return Money.zero(price.currency)


def _check_use(org: Organization, offer: Offer, coupon: Coupon | None, co: Checkout) -> None:
    if not offer.valid_from <= co.day <= offer.valid_to:
        raise ValidationFailed.field("code", "the offer is not valid on this day")
    if offer.branch_ids and str(co.branch.pk) not in offer.branch_ids:
        raise ValidationFailed.field("code", "the offer is not valid at this branch")
    if offer.service_ids and str(co.service.pk) not in offer.service_ids:
        raise ValidationFailed.field("service", "the offer does not cover this service")
    if offer.patient_kind != PatientKind.ANY:
        start = dt.datetime.combine(co.day, dt.time.min, tzinfo=co.branch.tz)
        returning = has_earlier_visit(org=org, patient=co.patient, before=start)
        if returning != (offer.patient_kind == PatientKind.RETURNING):
            raise ValidationFailed.field("patient", f"the offer is for {offer.get_patient_kind_display()}")
    if coupon is not None and coupon.single_use and coupon.used >= 1:
        raise ValidationFailed.field("code", "this code has already been used")
    if offer.total_limit is not None and offer.redeemed >= offer.total_limit:
        raise ValidationFailed.field("code", "the offer has been used up")
    if selectors.uses_by(org=org, offer=offer, patient=co.patient) >= offer.per_patient_limit:
        raise ValidationFailed.field("patient", "the patient has already used this offer")


def coupon_check(*, org: Organization, code: str, checkout: Checkout, lock: bool = False) -> Quote:
    """The discount the code gives on this checkout, or ``ValidationFailed`` naming the field."""
    if checkout.patient.organization_id != org.pk or checkout.service.organization_id != org.pk:
        raise ValidationFailed.field("patient", "unknown patient or service")
    coupon = selectors.coupon_by_code(org=org, code=code, lock=lock)
    if coupon is None:
        raise ValidationFailed.field("code", "no such code")
    offer = selectors.offer_for_coupon(org=org, coupon=coupon, lock=lock)
    _check_use(org, offer, coupon, checkout)
    discount = (
        min(_discount(offer, checkout.price), checkout.price)
        if offer.kind in (OfferKind.PERCENT, OfferKind.FIXED)
        else _discount(offer, checkout.price)
    )
    to_pay = (
        checkout.price - discount if offer.kind in (OfferKind.PERCENT, OfferKind.FIXED) else checkout.price
    )
    return Quote(offer=offer, coupon=coupon, discount=discount, to_pay=to_pay)


@transaction.atomic
def redeem(
    *,
    org: Organization,
    actor: AbstractBaseUser | None,
    code: str,
    checkout: Checkout,
    appointment_ref: object = None,
    request: HttpRequest | None = None,
) -> tuple[Redemption, Quote]:
    """Check the code against the checkout and count one use, atomically (rows locked)."""
    quote = coupon_check(org=org, code=code, checkout=checkout, lock=True)
    offer, coupon = quote.offer, quote.coupon
    Offer.objects.for_org(org).filter(pk=offer.pk).update(redeemed=F("redeemed") + 1)
    if coupon is not None:
        Coupon.objects.for_org(org).filter(pk=coupon.pk).update(used=F("used") + 1)
    row = Redemption.objects.create(
        organization=org,
        offer=offer,
        coupon=coupon,
        patient=checkout.patient,
        service=checkout.service,
        branch_id_ref=checkout.branch.pk,
        appointment_ref=parse_uuid(appointment_ref),
        price=checkout.price.amount,
        discount=quote.discount.amount,
        currency=quote.discount.currency,
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="redemption",
        object_id=row.pk,
        fields=["offer", "coupon", "patient", "discount"],
        request=request,
    )
    return row, quote
