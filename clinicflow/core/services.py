"""Writes for organisations and branches."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils.text import slugify

from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import Branch, Organization, Region, validate_timezone
from clinicflow.core.money import MINOR_UNITS
from clinicflow.core.names import clean_names
from clinicflow.core.phones import InvalidPhone, normalize


def _check_currency(currency: str) -> str:
    currency = currency.upper()
    if currency not in MINOR_UNITS:
        raise ValidationFailed.field("currency", f"must be one of {', '.join(sorted(MINOR_UNITS))}")
    return currency


@transaction.atomic
def organization_create(
    *,
    name: str,
    slug: str,
    country: str,
    currency: str,
    data_region: str = Region.OTHER,
    default_language: str = "en",
    name_i18n: Mapping[str, str] | None = None,
) -> Organization:
    slug = slugify(slug)[:60]
    if not slug:
        raise ValidationFailed.field("slug", "is required")
    if not name.strip():
        raise ValidationFailed.field("name", "is required")
    if len(country) != 2 or not country.isalpha():
        raise ValidationFailed.field("country", "must be a two-letter ISO 3166 code")
    if data_region not in Region.values:
        raise ValidationFailed.field("data_region", f"must be one of {', '.join(Region.values)}")
    if Organization.objects.filter(slug=slug).exists():
        raise Conflict(f"organisation {slug!r} already exists", fields={"slug": ["already exists"]})
    return Organization.objects.create(
        name=name.strip(),
        slug=slug,
        country=country.upper(),
        currency=_check_currency(currency),
        data_region=data_region,
        default_language=default_language,
        name_i18n=clean_names(name_i18n, max_length=200),
    )


@transaction.atomic
def branch_create(
    *,
    org: Organization,
    name: str,
    slug: str,
    timezone: str,
    currency: str | None = None,
    country: str | None = None,
    city: str = "",
    address: str = "",
    phone: str = "",
    name_i18n: Mapping[str, str] | None = None,
) -> Branch:
    """A new branch; ``name_i18n``: its name in other interface languages ({"en": ...})."""
    try:
        validate_timezone(timezone)
    except Exception as exc:
        raise ValidationFailed.field("timezone", f"unknown time zone {timezone!r}") from exc
    slug = slugify(slug)[:60]
    if Branch.objects.for_org(org).filter(slug=slug).exists():
        raise Conflict(f"branch {slug!r} already exists", fields={"slug": ["already exists"]})
    country = (country or org.country).upper()
    e164 = ""
    if phone:
        try:
            e164 = normalize(phone, country)
        except InvalidPhone as exc:
            raise ValidationFailed.field("phone", f"{phone!r} {exc}") from exc
    translations = clean_names(name_i18n, max_length=200)
    return Branch.objects.create(
        organization=org,
        name=name,
        name_i18n=translations,
        slug=slug,
        timezone=timezone,
        currency=_check_currency(currency or org.currency),
        country=country,
        city=city,
        address=address,
        phone=e164,
    )
