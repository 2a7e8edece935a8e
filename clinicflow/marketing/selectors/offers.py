"""Reads of offers, coupons and redemptions; every function takes the organisation first."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from decimal import Decimal

from clinicflow.catalogue.models import Product, ProductItem, Service
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.marketing.models import Coupon, Offer, Redemption
from clinicflow.patients.models import Patient


def offer_get(*, org: Organization, offer_id: object) -> Offer:
    pk = parse_uuid(offer_id)
    offer = Offer.objects.for_org(org).filter(pk=pk).first() if pk else None
    if offer is None:
        raise NotFound("offer not found")
    return offer


def offer_list(*, org: Organization) -> list[Offer]:
    return list(Offer.objects.for_org(org).order_by("-valid_from", "name"))


def branch_ids(*, org: Organization) -> set[str]:
    return {str(pk) for pk in Branch.objects.for_org(org).values_list("pk", flat=True)}


def service_ids(*, org: Organization, among: Sequence[str]) -> set[str]:
    pks = [p for p in (parse_uuid(i) for i in among) if p is not None]
    return {str(pk) for pk in Service.objects.for_org(org).filter(pk__in=pks).values_list("pk", flat=True)}


def codes_taken(*, org: Organization, codes: Collection[str]) -> set[str]:
    return set(Coupon.objects.for_org(org).filter(code__in=list(codes)).values_list("code", flat=True))


def coupon_by_code(*, org: Organization, code: str, lock: bool = False) -> Coupon | None:
    qs = Coupon.objects.for_org(org).filter(code=code.strip().upper()[:32])
    if lock:
        qs = qs.select_for_update()
    return qs.first()


def offer_for_coupon(*, org: Organization, coupon: Coupon, lock: bool = False) -> Offer:
    qs = Offer.objects.for_org(org).select_related("addon_service", "product").filter(pk=coupon.offer_id)
    if lock:
        qs = qs.select_for_update(of=("self",))
    return qs.get()


def uses_by(*, org: Organization, offer: Offer, patient: Patient) -> int:
    return Redemption.objects.for_org(org).filter(offer=offer, patient=patient).count()


def bundle_list_value(*, org: Organization, product: Product) -> Decimal:
    """What the package's services cost at their list prices, sessions counted."""
    total = Decimal(0)
    for price, sessions in (
        ProductItem.objects.for_org(org).filter(product=product).values_list("service__price", "sessions")
    ):
        total += price * sessions
    return total


def patient_named(*, org: Organization, patient_id: object) -> Patient:
    pk = parse_uuid(patient_id)
    patient = Patient.objects.for_org(org).filter(pk=pk).first() if pk else None
    if patient is None:
        raise NotFound("patient not found")
    return patient


def redemptions(*, org: Organization, offer_ids: Collection[uuid.UUID] | None = None) -> list[Redemption]:
    qs = Redemption.objects.for_org(org)
    if offer_ids is not None:
        qs = qs.filter(offer_id__in=list(offer_ids))
    return list(qs.order_by("at"))


def coupon_summary(*, org: Organization, offer: Offer) -> dict[str, int]:
    """Codes of the offer: how many, how many used (single-use codes used once or more)."""
    qs = Coupon.objects.for_org(org).filter(offer=offer)
    return {"total": qs.count(), "used": qs.filter(used__gt=0).count()}
