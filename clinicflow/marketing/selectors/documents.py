"""Reads of product documents."""

from __future__ import annotations

from django.db.models import Max

from clinicflow.catalogue.models import Product, ProductItem
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.marketing.models.documents import DEFAULT_OWNER, ProductDocumentPart, ProductDocumentVersion


def default_owner(part: str) -> str:
    return str(DEFAULT_OWNER[part])  # type: ignore[index]


def part_get(
    *, org: Organization, product: Product, part: str, lock: bool = False
) -> ProductDocumentPart | None:
    qs = ProductDocumentPart.objects.for_org(org).filter(product=product, part=part)
    return (qs.select_for_update() if lock else qs).first()


def parts(*, org: Organization, product: Product, lock: bool = False) -> list[ProductDocumentPart]:
    qs = ProductDocumentPart.objects.for_org(org).filter(product=product)
    return list((qs.select_for_update() if lock else qs).order_by("part"))


def last_version_number(*, org: Organization, product: Product) -> int:
    found = (
        ProductDocumentVersion.objects.for_org(org).filter(product=product).aggregate(n=Max("number"))["n"]
    )
    return int(found or 0)


def version_get(*, org: Organization, product: Product, number: int | None = None) -> ProductDocumentVersion:
    """A published version (the latest when ``number`` is None)."""
    qs = ProductDocumentVersion.objects.for_org(org).filter(product=product)
    found = (qs.filter(number=number) if number is not None else qs.order_by("-number")).first()
    if found is None:
        raise NotFound("no published version")
    return found


def versions(*, org: Organization, product: Product) -> list[ProductDocumentVersion]:
    return list(ProductDocumentVersion.objects.for_org(org).filter(product=product).order_by("-number"))


def latest_numbers(*, org: Organization) -> dict[object, int]:
    """Product id -> its latest published version number (products never published absent)."""
    rows = (
        ProductDocumentVersion.objects.for_org(org)
        .values("product_id")
        .annotate(n=Max("number"))
        .values_list("product_id", "n")
    )
    return dict(rows)


def front_desk_notes(*, org: Organization, service_id: object) -> list[dict[str, str]]:
    """The FAQ and pricing parts of the latest published document of every active packaged product that
    holds the service: what the front desk reads out when a caller names the service."""
    pk = parse_uuid(service_id)
    if pk is None:
        return []
    product_ids = list(
        ProductItem.objects.for_org(org)
        .filter(service_id=pk, product__is_active=True)
        .values_list("product_id", flat=True)
    )
    out: list[dict[str, str]] = []
    latest = latest_numbers(org=org)
    rows = (
        ProductDocumentVersion.objects.for_org(org)
        .filter(product_id__in=product_ids)
        .select_related("product")
    )
    for v in rows.order_by("product__name"):
        if latest.get(v.product_id) != v.number:
            continue
        parts = {p["part"]: p["body"] for p in v.parts}
        out.append(
            {
                "product": v.product.name,
                "version": str(v.number),
                "faq": parts.get("faq", ""),
                "pricing": parts.get("pricing", ""),
            }
        )
    return out
