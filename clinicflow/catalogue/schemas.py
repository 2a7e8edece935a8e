"""Catalogue API schemas: a service out (the shape ``GET /services`` has always had) and a service in."""

from typing import Any

from ninja import Field, Schema

from clinicflow.catalogue.models import Service
from clinicflow.catalogue.services import ServiceDetails
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.money import Money, MoneyError, to_decimal
from clinicflow.core.names import names_from_fields


class ServiceOut(Schema):
    id: str
    code: str
    name: str = Field(..., description="The name as stored, in the clinic's language")
    names: dict[str, str] = Field(..., description='Translations of the name by language, e.g. {"en": "..."}')
    display_name: str = Field(..., description="The name in the request's language (Accept-Language)")
    category: str
    duration_minutes: int
    buffer_minutes: int
    room_type: str
    price: str
    currency: str
    is_first_visit: bool
    course_sessions: int
    course_interval_days: int
    is_bookable_online: bool


def service_out(s: Service) -> dict[str, Any]:
    return {
        "id": str(s.pk),
        "code": s.code,
        "name": s.name,
        "names": dict(s.name_i18n or {}),
        "display_name": s.display_name,
        "category": s.category,
        "duration_minutes": s.duration_minutes,
        "buffer_minutes": s.buffer_minutes,
        "room_type": s.room_type,
        "price": str(s.price),
        "currency": s.currency,
        "is_first_visit": s.is_first_visit,
        "course_sessions": s.course_sessions,
        "course_interval_days": s.course_interval_days,
        "is_bookable_online": s.is_bookable_online,
    }


class ServiceIn(Schema):
    code: str = Field(..., max_length=60, description="Unique in the organisation: a-z, 0-9, '-' and '_'")
    name: str = Field(..., max_length=200)
    name_en: str | None = Field(None, description="The name in English (optional)")
    name_ru: str | None = Field(None, description="The name in Russian (optional)")
    name_zh_hans: str | None = Field(None, description="The name in Simplified Chinese (optional)")
    category: str
    duration_minutes: int
    room_type: str
    price: str = Field(..., description='The list price, a decimal as a string, e.g. "12000.00"')
    currency: str | None = Field(None, description="ISO 4217; the organisation's currency when omitted")
    buffer_minutes: int = 0
    is_first_visit: bool = False
    course_sessions: int = 1
    course_interval_days: int = 0
    follow_on_codes: list[str] = []
    is_bookable_online: bool = True

    def details(self) -> ServiceDetails:
        values = self.model_dump()
        return ServiceDetails.from_mapping({**values, "name_i18n": names_from_fields(values)})

    def money(self, default_currency: str) -> Money:
        """The price as ``Money``; a bad amount or currency is a 422 naming the field."""
        currency = (self.currency or default_currency).upper()
        try:
            Money.zero(currency)
        except MoneyError as exc:
            raise ValidationFailed.field("currency", str(exc)) from exc
        try:
            return Money(to_decimal(self.price), currency)
        except MoneyError as exc:
            raise ValidationFailed.field("price", str(exc)) from exc
