"""Reads of the catalogue: services and what they cost. Every function takes the organisation first.

The price of a service at a branch on a day is defined once, here (``price_at`` for one service,
``prices_at`` for many, both over ``_applicable_prices`` and ``PRICE_ORDER``): the latest price-history
row from that day or before, a row for the branch before an organisation-wide one of the same date,
the later-written row of two on one date; with no such row, the service's list price.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import F, OrderBy, Q, QuerySet

from clinicflow.catalogue.models import Service, ServicePrice
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Branch, Organization
from clinicflow.core.money import Money
from clinicflow.core.selectors import branch_list, parse_uuid

# Latest date first; on one date the branch's own row before the organisation-wide one (NULL last on
# every database), then the later-written row (ids are time-ordered UUIDv7).
PRICE_ORDER: tuple[str | OrderBy, ...] = ("-valid_from", F("branch_id").asc(nulls_last=True), "-id")


def service_get(*, org: Organization, service_id: object) -> Service:
    """One of the organisation's services (archived ones too); ``NotFound`` for any other id."""
    pk = parse_uuid(service_id)
    service = Service.objects.for_org(org).filter(pk=pk).first() if pk else None
    if service is None:
        raise NotFound("service not found")
    return service


def service_list(
    *,
    org: Organization,
    active: bool | None = True,
    online_only: bool = False,
    among: QuerySet[Any] | Iterable[uuid.UUID] | None = None,
) -> list[Service]:
    """The organisation's services by category and name. ``active``: True for the current ones (the
    default), False for the archived ones, None for both; ``among``: only these ids (a values query
    of service ids, e.g. the services a branch offers)."""
    qs = Service.objects.for_org(org)
    if active is not None:
        qs = qs.filter(is_active=active)
    if online_only:
        qs = qs.filter(is_bookable_online=True)
    if among is not None:
        qs = qs.filter(pk__in=among)
    return list(qs.order_by("category", "name"))


def service_code_taken(*, org: Organization, code: str) -> bool:
    return Service.objects.for_org(org).filter(code=code).exists()


def service_codes_known(*, org: Organization, codes: Sequence[str]) -> set[str]:
    """Which of ``codes`` name a service of the organisation."""
    return set(Service.objects.for_org(org).filter(code__in=list(codes)).values_list("code", flat=True))


def _applicable_prices(*, org: Organization, branch: Branch, day: dt.date) -> QuerySet[ServicePrice]:
    return (
        ServicePrice.objects.for_org(org)
        .filter(valid_from__lte=day)
        .filter(Q(branch=branch) | Q(branch__isnull=True))
    )


def price_at(*, org: Organization, service: Service, branch: Branch, day: dt.date) -> Money:
    """The price of the service at the branch on the day (one query)."""
    row = (
        _applicable_prices(org=org, branch=branch, day=day)
        .filter(service=service)
        .order_by(*PRICE_ORDER)
        .values_list("price", "currency")
        .first()
    )
    if row is not None:
        return Money(row[0], row[1])
    return list_price(service)


def prices_at(
    *, org: Organization, services: Sequence[Service], branch: Branch, day: dt.date
) -> dict[uuid.UUID, Money]:
    """``price_at`` for many services in one query: service id -> price."""
    found: dict[uuid.UUID, Money] = {}
    rows = (
        _applicable_prices(org=org, branch=branch, day=day)
        .filter(service_id__in=[s.pk for s in services])
        .order_by("service_id", *PRICE_ORDER)
        .values_list("service_id", "price", "currency")
    )
    for service_id, price, currency in rows:
        found.setdefault(service_id, Money(price, currency))
    return {s.pk: found.get(s.pk) or list_price(s) for s in services}


def list_price(service: Service) -> Money:
    """The price the service was created with: what it costs where no price-history row applies."""
    return Money(service.price, service.currency)


def price_history(*, org: Organization, service: Service) -> list[ServicePrice]:
    """Every price-history row of the service, newest first, with its branch."""
    return list(
        ServicePrice.objects.for_org(org)
        .filter(service=service)
        .select_related("branch")
        .order_by(*PRICE_ORDER)
    )


def earliest_today(*, org: Organization) -> dt.date:
    """The earliest local date among the organisation's branches (UTC's date when it has none): a date
    before it is in the past everywhere."""
    now = dt.datetime.now(dt.UTC)
    return min((now.astimezone(b.tz).date() for b in branch_list(org=org)), default=now.date())


def service_by_key(*, org: Organization, key: str) -> Service | None:
    """The organisation's service named by its id or its code (as an API caller may name it)."""
    qs = Service.objects.for_org(org)
    pk = parse_uuid(key)
    return qs.filter(pk=pk).first() if pk else qs.filter(code=key[:60]).first()
