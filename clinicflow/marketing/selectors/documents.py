"""Reads of product documents."""

from __future__ import annotations

from django.db.models import Max

from clinicflow.catalogue.models import Product
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
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
