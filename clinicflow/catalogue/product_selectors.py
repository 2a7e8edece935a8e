"""Reads of product lines and packaged products; every function takes the organisation first."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from clinicflow.catalogue.models import Product, ProductItem, ProductLine
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid


def _with_items(org: Organization) -> Prefetch[Any, Any, Any]:
    items = ProductItem.objects.for_org(org).select_related("service").order_by("id")
    return Prefetch("items", queryset=items)


def product_get(*, org: Organization, product_id: object) -> Product:
    """One of the organisation's packaged products with its items; ``NotFound`` for any other id."""
    pk = parse_uuid(product_id)
    qs = Product.objects.for_org(org).select_related("line").prefetch_related(_with_items(org))
    product = qs.filter(pk=pk).first() if pk else None
    if product is None:
        raise NotFound("product not found")
    return product


def product_list(
    *, org: Organization, active: bool | None = True, line: ProductLine | None = None
) -> list[Product]:
    qs = Product.objects.for_org(org).select_related("line").prefetch_related(_with_items(org))
    if active is not None:
        qs = qs.filter(is_active=active)
    if line is not None:
        qs = qs.filter(line=line)
    return list(qs.order_by("name"))


def product_code_taken(*, org: Organization, code: str) -> bool:
    return Product.objects.for_org(org).filter(code=code).exists()


def line_list(*, org: Organization) -> list[ProductLine]:
    return list(ProductLine.objects.for_org(org).order_by("name"))


def line_get(*, org: Organization, line_id: object) -> ProductLine:
    pk = parse_uuid(line_id)
    line = ProductLine.objects.for_org(org).filter(pk=pk).first() if pk else None
    if line is None:
        raise NotFound("product line not found")
    return line


def line_by_code(*, org: Organization, code: str) -> ProductLine | None:
    return ProductLine.objects.for_org(org).filter(code=code).first()
