"""Writes of product lines and packaged products: keyword-only, organisation first, atomic, audited,
``ValidationFailed`` naming the field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest

from clinicflow.catalogue import product_selectors, selectors
from clinicflow.catalogue.models import Product, ProductItem, ProductLine, Service, ServiceCategory
from clinicflow.catalogue.services import CODE_RE, _check_price
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import NotFound, ValidationFailed
from clinicflow.core.models import AuditAction, Organization
from clinicflow.core.money import Money

MAX_ITEMS = 30
MAX_ITEM_SESSIONS = 100


@dataclass(frozen=True)
class ItemIn:
    """A service of a package (by id) and how many sessions of it the package holds."""

    service_id: str
    sessions: int = 1


def _code(code: str) -> str:
    code = code.strip().lower()
    if not CODE_RE.match(code) or len(code) > 60:
        raise ValidationFailed.field("code", "letters, digits, '-' and '_', at most 60")
    return code


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed.field("name", "is required, at most 200 characters")
    return name


@transaction.atomic
def line_create(
    *,
    org: Organization,
    actor: AbstractBaseUser | None,
    code: str,
    name: str,
    category: str = "",
    request: HttpRequest | None = None,
) -> ProductLine:
    """A new product line."""
    code = _code(code)
    if product_selectors.line_by_code(org=org, code=code) is not None:
        raise ValidationFailed.field("code", "another product line has this code")
    if category and category not in ServiceCategory.values:
        raise ValidationFailed.field("category", f"must be one of {', '.join(ServiceCategory.values)}")
    line = ProductLine.objects.create(organization=org, code=code, name=_name(name), category=category)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="product_line",
        object_id=line.pk,
        fields=["code", "name", "category"],
        request=request,
    )
    return line


def _items(org: Organization, items: Sequence[ItemIn]) -> list[tuple[Service, int]]:
    if not items:
        raise ValidationFailed.field("items", "a package holds at least one service")
    if len(items) > MAX_ITEMS:
        raise ValidationFailed.field("items", f"at most {MAX_ITEMS} services")
    out: list[tuple[Service, int]] = []
    seen: set[str] = set()
    for item in items:
        try:
            service = selectors.service_get(org=org, service_id=item.service_id)
        except NotFound as exc:
            raise ValidationFailed.field("items", f"unknown service {item.service_id}") from exc
        if str(service.pk) in seen:
            raise ValidationFailed.field("items", "a service appears twice")
        if not 1 <= item.sessions <= MAX_ITEM_SESSIONS:
            raise ValidationFailed.field("items", f"sessions must be 1..{MAX_ITEM_SESSIONS}")
        seen.add(str(service.pk))
        out.append((service, item.sessions))
    return out


@transaction.atomic
def product_create(
    *,
    org: Organization,
    actor: AbstractBaseUser | None,
    code: str,
    name: str,
    price: Money,
    items: Sequence[ItemIn],
    line: ProductLine | None = None,
    valid_days: int = 365,
    request: HttpRequest | None = None,
) -> Product:
    """A packaged product: a course or bundle of services at one package price."""
    code = _code(code)
    if product_selectors.product_code_taken(org=org, code=code):
        raise ValidationFailed.field("code", "another product has this code")
    if line is not None and line.organization_id != org.pk:
        raise ValidationFailed.field("line", "unknown product line")
    _check_price(price)
    if not 1 <= valid_days <= 3650:
        raise ValidationFailed.field("valid_days", "must be 1..3650")
    checked = _items(org, items)
    product = Product.objects.create(
        organization=org,
        code=code,
        name=_name(name),
        line=line,
        price=price.amount,
        currency=price.currency,
        valid_days=valid_days,
    )
    ProductItem.objects.bulk_create(
        [ProductItem(organization=org, product=product, service=s, sessions=n) for s, n in checked]
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="product",
        object_id=product.pk,
        fields=["code", "name", "line", "price", "currency", "valid_days", "items"],
        request=request,
    )
    return product


@transaction.atomic
def product_update(
    *,
    org: Organization,
    actor: AbstractBaseUser | None,
    product: Product,
    name: str,
    price: Money,
    items: Sequence[ItemIn],
    line: ProductLine | None = None,
    is_active: bool = True,
    request: HttpRequest | None = None,
) -> Product:
    """Change a packaged product: its name, line, package price and services (replaced as a whole)."""
    if product.organization_id != org.pk:
        raise ValidationFailed.field("product", "unknown product")
    if line is not None and line.organization_id != org.pk:
        raise ValidationFailed.field("line", "unknown product line")
    _check_price(price)
    checked = _items(org, items)
    product.name, product.line, product.is_active = _name(name), line, is_active
    product.price, product.currency = price.amount, price.currency
    product.save(update_fields=["name", "line", "is_active", "price", "currency"])
    ProductItem.objects.for_org(org).filter(product=product).delete()
    ProductItem.objects.bulk_create(
        [ProductItem(organization=org, product=product, service=s, sessions=n) for s, n in checked]
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="product",
        object_id=product.pk,
        fields=["name", "line", "is_active", "price", "currency", "items"],
        request=request,
    )
    return product
