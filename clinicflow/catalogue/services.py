"""Writes to the catalogue: create, change and archive services, set prices from a date on.

Every function is keyword-only with the organisation first, atomic and audited, and raises
``ValidationFailed`` naming the field. A price change never rewrites history: ``price_set`` appends a
price-history row from a date that has not passed yet; the rows already written are never changed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from clinicflow.catalogue import selectors
from clinicflow.catalogue.models import RoomType, Service, ServiceCategory, ServicePrice
from clinicflow.core.audit import audit_record, audited_save
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.money import Money, quantize
from clinicflow.core.names import clean_names

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
MAX_DURATION = 24 * 60  # minutes; booking looks back a day for overlapping appointments
MAX_BUFFER = 4 * 60
MAX_SESSIONS = 100
MAX_INTERVAL = 365
MAX_PRICE = Decimal("9999999999.99")  # the column holds 12 digits, 2 after the point


@dataclass
class ServiceDetails:
    """What a service is, apart from its code (fixed at creation) and its price (see ``price_set``)."""

    name: str
    category: str
    duration_minutes: int
    room_type: str
    buffer_minutes: int = 0
    is_first_visit: bool = False
    course_sessions: int = 1
    course_interval_days: int = 0
    follow_on_codes: list[str] = field(default_factory=list)
    is_bookable_online: bool = True
    name_i18n: dict[str, str] = field(default_factory=dict)  # the name in other languages {lang: text}

    def values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ServiceDetails:
        """The details among ``values`` (a form's cleaned data, an API payload); other keys are ignored."""
        return cls(**{f.name: values[f.name] for f in fields(cls) if f.name in values})


def _between(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValidationFailed.field(name, f"must be {low}..{high}")


def _check_choices(details: ServiceDetails) -> None:
    if details.category not in ServiceCategory.values:
        raise ValidationFailed.field("category", f"must be one of {', '.join(ServiceCategory.values)}")
    if details.room_type not in RoomType.values:
        raise ValidationFailed.field("room_type", f"must be one of {', '.join(RoomType.values)}")


def _check_numbers(details: ServiceDetails) -> None:
    _between("duration_minutes", details.duration_minutes, 1, MAX_DURATION)
    _between("buffer_minutes", details.buffer_minutes, 0, MAX_BUFFER)
    _between("course_sessions", details.course_sessions, 1, MAX_SESSIONS)
    _between("course_interval_days", details.course_interval_days, 0, MAX_INTERVAL)
    if details.course_sessions > 1 and details.course_interval_days == 0:
        raise ValidationFailed.field(
            "course_interval_days", "a course of several sessions needs days between them"
        )


def _clean_follow_on(org: Organization, codes: Sequence[str], own_code: str) -> list[str]:
    wanted = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if own_code in wanted:
        raise ValidationFailed.field("follow_on_codes", "a service cannot follow itself")
    unknown = sorted(set(wanted) - selectors.service_codes_known(org=org, codes=wanted))
    if unknown:
        raise ValidationFailed.field("follow_on_codes", f"no service has the code {', '.join(unknown)}")
    return wanted


def _clean(org: Organization, details: ServiceDetails, code: str) -> ServiceDetails:
    name = details.name.strip()
    if not name:
        raise ValidationFailed.field("name", "is required")
    if len(name) > 200:
        raise ValidationFailed.field("name", "at most 200 characters")
    _check_choices(details)
    _check_numbers(details)
    follow_on = _clean_follow_on(org, details.follow_on_codes, code)
    names = clean_names(details.name_i18n, max_length=200)
    return ServiceDetails(
        **{**details.values(), "name": name, "follow_on_codes": follow_on, "name_i18n": names}
    )


def _check_price(price: Money, name: str = "price") -> None:
    if price.amount < 0:
        raise ValidationFailed.field(name, "must not be negative")
    if price.amount > MAX_PRICE:
        raise ValidationFailed.field(name, f"must be at most {MAX_PRICE}")
    if quantize(price.amount, price.currency) != price.amount:
        raise ValidationFailed.field(name, f"has more decimal places than {price.currency} allows")


def _same_org(org: Organization, **objs: Any) -> None:
    for name, obj in objs.items():
        if obj is not None and obj.organization_id != org.pk:
            raise ValidationFailed.field(name, f"unknown {name}")


@transaction.atomic
def service_create(
    *,
    org: Organization,
    actor: AbstractBaseUser | None,
    code: str,
    price: Money,
    details: ServiceDetails,
    request: HttpRequest | None = None,
) -> Service:
    """A new active service with its list price (the price where no price-history row applies)."""
    code = code.strip().lower()
    if not CODE_RE.match(code) or len(code) > 60:
        raise ValidationFailed.field("code", "letters, digits, '-' and '_', at most 60")
    if selectors.service_code_taken(org=org, code=code):
        raise ValidationFailed.field("code", "another service has this code")
    _check_price(price)
    clean = _clean(org, details, code)
    service = Service(
        organization=org, code=code, price=price.amount, currency=price.currency, **clean.values()
    )
    try:
        with transaction.atomic():
            service.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent create took the code between the check and the insert
        raise ValidationFailed.field("code", "another service has this code") from exc
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="service",
        object_id=service.pk,
        fields=["code", "price", "currency", *clean.values()],
        request=request,
    )
    return service


@transaction.atomic
def service_update(
    *,
    org: Organization,
    actor: AbstractBaseUser | None,
    service: Service,
    details: ServiceDetails,
    request: HttpRequest | None = None,
) -> Service:
    """Change what the service is; only the fields that differ are saved and audited."""
    _same_org(org, service=service)
    clean = _clean(org, details, service.code)
    changed = [name for name, value in clean.values().items() if getattr(service, name) != value]
    if changed:
        for name in changed:
            setattr(service, name, getattr(clean, name))
        audited_save(service, org=org, actor=actor, fields=changed, object_type="service", request=request)
    return service


def _set_active(
    org: Organization,
    actor: AbstractBaseUser | None,
    service: Service,
    active: bool,
    request: HttpRequest | None,
) -> Service:
    _same_org(org, service=service)
    if service.is_active != active:
        service.is_active = active
        audited_save(
            service, org=org, actor=actor, fields=["is_active"], object_type="service", request=request
        )
    return service


@transaction.atomic
def service_archive(
    *, org: Organization, actor: AbstractBaseUser | None, service: Service, request: HttpRequest | None = None
) -> Service:
    """Take the service out of the lists and of online booking; its history and appointments stay."""
    return _set_active(org, actor, service, False, request)


@transaction.atomic
def service_restore(
    *, org: Organization, actor: AbstractBaseUser | None, service: Service, request: HttpRequest | None = None
) -> Service:
    """Bring an archived service back."""
    return _set_active(org, actor, service, True, request)


@transaction.atomic
def price_set(
    *,
    org: Organization,
    actor: AbstractBaseUser | None,
    service: Service,
    price: Money,
    valid_from: dt.date,
    branch: Branch | None = None,
    request: HttpRequest | None = None,
) -> ServicePrice:
    """The service costs ``price`` from ``valid_from`` on, at ``branch`` (or at every branch without a
    price of its own). Appends a price-history row; a date that has passed is refused, so the price
    on any past day stays what it was. Two changes from one date: the later one applies."""
    _same_org(org, service=service, branch=branch)
    _check_price(price)
    currency = branch.currency if branch is not None else service.currency
    if price.currency != currency:
        raise ValidationFailed.field("price", f"must be in {currency}, the currency of {branch or service}")
    today = dt.datetime.now(branch.tz).date() if branch is not None else selectors.earliest_today(org=org)
    if valid_from < today:
        raise ValidationFailed.field(
            "valid_from", "must not be in the past: a price change never rewrites history"
        )
    row = ServicePrice.objects.create(
        organization=org,
        service=service,
        branch=branch,
        price=price.amount,
        currency=price.currency,
        valid_from=valid_from,
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="service_price",
        object_id=row.pk,
        fields=["service", "branch", "price", "currency", "valid_from"],
        request=request,
    )
    return row
