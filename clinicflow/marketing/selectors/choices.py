"""The organisation's objects a marketing form offers to pick from (branches, product lines,
audiences, offers, services, products), each keyed by its id as the form posts it."""

from __future__ import annotations

from django.db.models import QuerySet

from clinicflow.catalogue.models import Product, ProductLine, Service
from clinicflow.core.models import Branch, Organization
from clinicflow.marketing.models import Audience, Offer


def branches(org: Organization) -> QuerySet[Branch]:
    return Branch.objects.for_org(org).order_by("name")


def product_lines(org: Organization) -> QuerySet[ProductLine]:
    return ProductLine.objects.for_org(org).order_by("name")


def audiences(org: Organization) -> QuerySet[Audience]:
    return Audience.objects.for_org(org)


def offers(org: Organization) -> QuerySet[Offer]:
    return Offer.objects.for_org(org)


def services(org: Organization) -> QuerySet[Service]:
    return Service.objects.for_org(org)


def products(org: Organization) -> QuerySet[Product]:
    return Product.objects.for_org(org)
