"""Catalogue test data, made through the catalogue's services."""

from __future__ import annotations

from typing import Any

from clinicflow.catalogue.models import Service
from clinicflow.catalogue.services import ServiceDetails, service_create
from clinicflow.core.models import Organization
from clinicflow.core.money import Money


def details(**overrides: Any) -> ServiceDetails:
    values: dict[str, Any] = {
        "name": "Laser resurfacing",
        "category": "laser",
        "duration_minutes": 60,
        "room_type": "laser",
    }
    return ServiceDetails(**{**values, **overrides})


def make_service(
    org: Organization,
    code: str = "laser-face",
    price: str = "12000.00",
    currency: str = "RUB",
    **overrides: Any,
) -> Service:
    return service_create(
        org=org, actor=None, code=code, price=Money.of(price, currency), details=details(**overrides)
    )
