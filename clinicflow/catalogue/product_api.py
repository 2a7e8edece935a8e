"""Catalogue API of packaged products: ``GET/POST /products``, ``GET /products/{product_id}``."""

from typing import Any

from ninja import Field, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.catalogue import product_selectors, product_services
from clinicflow.catalogue.models import Product
from clinicflow.core.api import ERRORS
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.money import Money, MoneyError, to_decimal


class ProductItemOut(Schema):
    service: str
    service_code: str
    sessions: int


class ProductOut(Schema):
    id: str
    code: str
    name: str
    line: str | None = Field(None, description="The product line's code")
    price: str
    currency: str
    valid_days: int
    is_active: bool
    items: list[ProductItemOut]


class ProductItemIn(Schema):
    service: str = Field(..., description="A service id")
    sessions: int = 1


class ProductIn(Schema):
    code: str = Field(..., max_length=60)
    name: str = Field(..., max_length=200)
    line: str | None = Field(None, description="A product line's code")
    price: str = Field(..., description='The package price, a decimal as a string, e.g. "45000.00"')
    currency: str | None = None
    valid_days: int = 365
    items: list[ProductItemIn]


def product_out(p: Product) -> dict[str, Any]:
    return {
        "id": str(p.pk),
        "code": p.code,
        "name": p.name,
        "line": p.line.code if p.line is not None else None,
        "price": str(p.price),
        "currency": p.currency,
        "valid_days": p.valid_days,
        "is_active": p.is_active,
        "items": [
            {"service": str(i.service_id), "service_code": i.service.code, "sessions": i.sessions}
            for i in p.items.all()
        ],
    }


router = Router(tags=["catalogue"])


@router.get("/products", response={200: list[ProductOut], **ERRORS})
@api_perm("catalogue.view")
def product_list(request: ApiRequest) -> list[dict[str, Any]]:
    """The organisation's current packaged products, with their services."""
    return [product_out(p) for p in product_selectors.product_list(org=request.org)]


@router.post("/products", response={201: ProductOut, **ERRORS})
@api_perm("catalogue.manage")
def product_create(request: ApiRequest, payload: ProductIn) -> Status[dict[str, Any]]:
    """Create a packaged product. 201; 422 naming a bad field."""
    org = request.org
    try:
        price = Money(to_decimal(payload.price), (payload.currency or org.currency).upper())
    except MoneyError as exc:
        raise ValidationFailed.field("price", str(exc)) from exc
    line = None
    if payload.line:
        line = product_selectors.line_by_code(org=org, code=payload.line)
        if line is None:
            raise ValidationFailed.field("line", "unknown product line")
    product = product_services.product_create(
        org=org,
        actor=request.auth,
        code=payload.code,
        name=payload.name,
        price=price,
        items=[product_services.ItemIn(service_id=i.service, sessions=i.sessions) for i in payload.items],
        line=line,
        valid_days=payload.valid_days,
        request=request,
    )
    return Status(201, product_out(product_selectors.product_get(org=org, product_id=product.pk)))


@router.get("/products/{product_id}", response={200: ProductOut, **ERRORS})
@api_perm("catalogue.view")
def product_detail(request: ApiRequest, product_id: str) -> dict[str, Any]:
    """One packaged product; another organisation's id is a 404."""
    return product_out(product_selectors.product_get(org=request.org, product_id=product_id))
