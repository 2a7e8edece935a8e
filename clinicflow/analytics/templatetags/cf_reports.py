from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.templatetags.static import static
from django.utils.formats import number_format

from clinicflow.analytics.reports.base import Column

register = template.Library()


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.simple_tag
def static_url(path: str) -> str:
    return static(path)


@register.simple_tag
def cell(row: dict[str, Any], column: Column, currency: str = "") -> str:
    value = row.get(column.key)
    if value is None or value == "":
        return "—"
    if column.kind == "percent":
        return f"{float(value) * 100:.1f}%"
    if column.kind == "money":
        return number_format(Decimal(value), 2, use_l10n=True, force_grouping=True)
    if column.kind == "int":
        return number_format(int(value), 0, use_l10n=True, force_grouping=True)
    if column.kind == "float":
        return number_format(float(value), 2, use_l10n=True)
    return str(value)
