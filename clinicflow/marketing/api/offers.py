"""Offers and coupons: ``POST/GET /offers``, ``POST /offers/{offer_id}/coupons``, ``POST /coupons/check``
and ``POST /coupons/redeem`` (what checkout calls)."""

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.catalogue import product_selectors
from clinicflow.catalogue import selectors as catalogue
from clinicflow.core.api import ERRORS
from clinicflow.core.errors import NotFound, ValidationFailed
from clinicflow.core.money import Money, MoneyError, to_decimal
from clinicflow.core.selectors import branch_named
from clinicflow.marketing.models import Offer
from clinicflow.marketing.selectors import offers as selectors
from clinicflow.marketing.services import offers as services

router = Router(tags=["marketing"])


class OfferIn(Schema):
    name: str = Field(..., max_length=200)
    kind: str = Field(..., description="percent, fixed, free_addon or bundle")
    valid_from: dt.date
    valid_to: dt.date
    percent: Decimal | None = Field(None, description="percent: more than 0, at most 100")
    amount: Decimal | None = Field(None, description="fixed: the discount in the currency")
    currency: str | None = None
    addon_service: str | None = Field(None, description="free_addon: the service given free")
    product: str | None = Field(None, description="bundle: the packaged product")
    branches: list[str] = Field(default_factory=list, description="branch ids; empty: every branch")
    services: list[str] = Field(default_factory=list, description="service ids; empty: every service")
    patient_kind: str = Field("any", description="any, new or returning")
    per_patient_limit: int = 1
    total_limit: int | None = None


class OfferOut(Schema):
    id: str
    name: str
    kind: str
    valid_from: dt.date
    valid_to: dt.date
    percent: str | None
    amount: str | None
    currency: str
    patient_kind: str
    per_patient_limit: int
    total_limit: int | None
    redeemed: int


def offer_out(o: Offer) -> dict[str, Any]:
    return {
        "id": str(o.pk),
        "name": o.name,
        "kind": o.kind,
        "valid_from": o.valid_from,
        "valid_to": o.valid_to,
        "percent": None if o.percent is None else str(o.percent),
        "amount": None if o.amount is None else str(o.amount),
        "currency": o.currency,
        "patient_kind": o.patient_kind,
        "per_patient_limit": o.per_patient_limit,
        "total_limit": o.total_limit,
        "redeemed": o.redeemed,
    }


@router.post("/offers", response={201: OfferOut, **ERRORS})
@api_perm("marketing.manage")
def offer_create(request: ApiRequest, payload: OfferIn) -> Status[dict[str, Any]]:
    """Create an offer. 422 naming the field: dates that end before they start, a percent over 100, ..."""
    org = request.org
    addon = (
        catalogue.service_get(org=org, service_id=payload.addon_service) if payload.addon_service else None
    )
    product = product_selectors.product_get(org=org, product_id=payload.product) if payload.product else None
    data = services.OfferData(
        name=payload.name,
        kind=payload.kind,
        valid_from=payload.valid_from,
        valid_to=payload.valid_to,
        percent=payload.percent,
        amount=payload.amount,
        currency=payload.currency or "",
        addon_service=addon,
        product=product,
        branch_ids=payload.branches,
        service_ids=payload.services,
        patient_kind=payload.patient_kind,
        per_patient_limit=payload.per_patient_limit,
        total_limit=payload.total_limit,
    )
    return Status(
        201, offer_out(services.offer_create(org=org, actor=request.auth, data=data, request=request))
    )


@router.get("/offers", response={200: list[OfferOut], **ERRORS})
@api_perm("marketing.view")
def offer_list(request: ApiRequest) -> list[dict[str, Any]]:
    return [offer_out(o) for o in selectors.offer_list(org=request.org)]


@router.get("/offers/{offer_id}", response={200: OfferOut, **ERRORS})
@api_perm("marketing.view")
def offer_detail(request: ApiRequest, offer_id: str) -> dict[str, Any]:
    return offer_out(selectors.offer_get(org=request.org, offer_id=offer_id))


class BatchIn(Schema):
    count: int = Field(..., description="how many single-use codes, 1..100000")


class BatchOut(Schema):
    count: int
    codes: list[str]


@router.post("/offers/{offer_id}/coupons", response={201: BatchOut, **ERRORS})
@api_perm("marketing.manage")
def coupons_generate(request: ApiRequest, offer_id: str, payload: BatchIn) -> Status[dict[str, Any]]:
    """A batch of single-use codes for the offer."""
    offer = selectors.offer_get(org=request.org, offer_id=offer_id)
    made = services.coupons_generate(org=request.org, actor=request.auth, offer=offer, count=payload.count)
    return Status(201, {"count": len(made), "codes": [c.code for c in made]})


class CheckoutIn(Schema):
    code: str = Field(..., max_length=32)
    patient: str
    service: str
    branch: str
    price: str = Field(..., description="the price before the discount, a decimal as a string")
    currency: str | None = None
    day: dt.date | None = Field(None, description="the day of the visit; today at the branch when omitted")
    appointment: str | None = None


class QuoteOut(Schema):
    offer: str
    code: str
    discount: str
    to_pay: str
    currency: str


def _checkout(request: ApiRequest, payload: CheckoutIn) -> services.Checkout:
    org = request.org
    try:
        patient = selectors.patient_named(org=org, patient_id=payload.patient)
    except NotFound as exc:
        raise ValidationFailed.field("patient", "unknown patient") from exc
    try:
        service = catalogue.service_get(org=org, service_id=payload.service)
    except NotFound as exc:
        raise ValidationFailed.field("service", "unknown service") from exc
    branch = branch_named(org=org, branch_id=payload.branch)
    if branch is None:
        raise ValidationFailed.field("branch", "unknown branch")
    try:
        price = Money(to_decimal(payload.price), (payload.currency or branch.currency).upper())
    except MoneyError as exc:
        raise ValidationFailed.field("price", str(exc)) from exc
    day = payload.day or dt.datetime.now(branch.tz).date()
    return services.Checkout(patient=patient, service=service, branch=branch, price=price, day=day)


@router.post("/coupons/check", response={200: QuoteOut, **ERRORS})
@api_perm("marketing.redeem")
def coupon_check(request: ApiRequest, payload: CheckoutIn) -> dict[str, Any]:
    """What the code would give on this checkout; counts nothing. 422 naming the field when refused."""
    q = services.coupon_check(org=request.org, code=payload.code, checkout=_checkout(request, payload))
    return {
        "offer": str(q.offer.pk),
        "code": payload.code.upper(),
        "discount": str(q.discount.amount),
        "to_pay": str(q.to_pay.amount),
        "currency": q.to_pay.currency,
    }


@router.post("/coupons/redeem", response={201: QuoteOut, **ERRORS})
@api_perm("marketing.redeem")
def coupon_redeem(request: ApiRequest, payload: CheckoutIn) -> Status[dict[str, Any]]:
    """Check and count one use of the code, atomically. 422 naming the field when refused."""
    checkout = _checkout(request, payload)
    _row, q = services.redeem(
        org=request.org,
        actor=request.auth,
        code=payload.code,
        checkout=checkout,
        appointment_ref=payload.appointment,
        request=request,
    )
    return Status(
        201,
        {
            "offer": str(q.offer.pk),
            "code": payload.code.upper(),
            "discount": str(q.discount.amount),
            "to_pay": str(q.to_pay.amount),
            "currency": q.to_pay.currency,
        },
    )
