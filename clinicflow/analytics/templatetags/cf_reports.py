from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.templatetags.static import static

from clinicflow.analytics.reports.base import Column
from clinicflow.core.formatting import (
    EMPTY,
    fmt_date_full,
    fmt_decimal,
    fmt_int,
    fmt_money,
    fmt_percent,
)

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.simple_tag
def static_url(path: str) -> str:
    return static(path)


@register.simple_tag
def cell(row: dict[str, Any], column: Column, currency: str = "") -> str:
    """A report cell for people, in the interface language (exports keep the raw numbers)."""
    value = row.get(column.key)
    if value is None or value == "":
        return EMPTY
    try:
        if column.kind == "percent":
            return fmt_percent(value)
        if column.kind == "money":
            return fmt_money(value, currency)
        if column.kind == "int":
            return fmt_int(value)
        if column.kind == "float":
            # a count credited in parts (linear attribution) keeps its fraction; a whole one shows none
            return (
                fmt_int(value)
                if Decimal(str(value)) == Decimal(str(value)).to_integral_value()
                else fmt_decimal(value, 2)
            )
        if column.kind == "date" and isinstance(value, dt.date):
            return fmt_date_full(value)
    except (TypeError, ValueError, ArithmeticError):
        return str(value)
    return str(value)
