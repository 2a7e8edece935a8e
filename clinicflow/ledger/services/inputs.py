"""Checking what a caller asks the ledger to move: each refusal names its field (``ValidationFailed``,
a 422 in the API) and nothing is posted."""

from __future__ import annotations

from decimal import Decimal

from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import Branch, Organization
from clinicflow.core.money import MINOR_UNITS, MoneyError, to_decimal
from clinicflow.ledger.services.journal import places, round_unit

MAX_AMOUNT = Decimal("1000000000000")  # 10^12 of any unit: far beyond any real payment


def org_currencies(org: Organization) -> set[str]:
    """The currencies a clinic keeps balances in: its own and its branches'."""
    found = set(Branch.objects.for_org(org).values_list("currency", flat=True))
    return {c for c in {org.currency, *found} if c}


def clean_currency(org: Organization, value: object, field: str = "currency") -> str:
    code = str(value or "").strip().upper()
    if code not in MINOR_UNITS:
        raise ValidationFailed.field(field, "unknown currency")
    if code != org.currency and code not in org_currencies(org):  # the clinic's own: no query
        raise ValidationFailed.field(field, "the clinic keeps no balances in this currency")
    return code


def clean_amount(value: object, unit: str, field: str = "amount") -> Decimal:
    """A positive amount with at most the unit's decimal places (a float is refused as such)."""
    if isinstance(value, float):
        raise ValidationFailed.field(field, "send the amount as a string or an integer, not a float")
    if isinstance(value, bool):
        raise ValidationFailed.field(field, "not a number")
    try:
        amount = to_decimal(value)
    except MoneyError as exc:
        raise ValidationFailed.field(field, "not a number") from exc
    if amount <= 0:
        raise ValidationFailed.field(field, "must be greater than zero")
    if amount >= MAX_AMOUNT:
        raise ValidationFailed.field(field, "too large")
    if round_unit(amount, unit) != amount:
        raise ValidationFailed.field(field, f"at most {places(unit)} decimal places in {unit}")
    return round_unit(amount, unit)


def clean_points(value: object, field: str = "points") -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise ValidationFailed.field(field, "a whole number of points")
    try:
        points = to_decimal(value)
    except MoneyError as exc:
        raise ValidationFailed.field(field, "a whole number of points") from exc
    if points != points.to_integral_value():
        raise ValidationFailed.field(field, "a whole number of points")
    if points <= 0:
        raise ValidationFailed.field(field, "must be greater than zero")
    if points >= MAX_AMOUNT:
        raise ValidationFailed.field(field, "too large")
    return points.quantize(Decimal(1))
