"""Template filters over ``clinicflow.core.formatting``: ``{% load cf_format %}``.

``{{ n|cf_int }}``, ``{{ x|cf_num:2 }}``, ``{{ amount|cf_money:currency }}`` (a ``Money`` needs no
argument), ``{{ fraction|cf_pct }}`` (``cf_pct:0`` for whole percents), ``{{ d|cf_date }}``,
``{{ d|cf_date_full }}``, ``{{ when|cf_datetime }}`` (in the zone the view activated, or the one a
``timezone`` filter before it chose; ``cf_datetime:branch.timezone`` names another) and
``{{ when|cf_datetime_full }}`` (with the year); ``{{ d|cf_date_weekday }}`` for calendars. A value
that is not a number or a date is shown as it is rather than failing the page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template

from clinicflow.core import formatting

register = template.Library()


def _safely(func: Any, value: Any, *args: Any) -> str:
    try:
        return str(func(value, *args))
    except (TypeError, ValueError, ArithmeticError):
        return str(value)


@register.filter
def cf_int(value: Any) -> str:
    return _safely(formatting.fmt_int, value)


@register.filter
def cf_num(value: Any, places: Any = 2) -> str:
    try:
        digits = int(places)
    except (TypeError, ValueError):
        digits = 2
    return _safely(formatting.fmt_decimal, value, digits)


@register.filter
def cf_money(value: Any, currency: Any = "") -> str:
    return _safely(formatting.fmt_money, value, str(currency or ""))


@register.filter
def cf_pct(value: Any, places: Any = 1) -> str:
    try:
        digits = int(places)
    except (TypeError, ValueError):
        digits = 1
    return _safely(formatting.fmt_percent, value, digits)


def _day(value: Any) -> dt.date | None:
    """The date to show: a datetime is taken on its own clock (already the page's zone, or the one
    the ``timezone`` filter chose), a date as it is; anything else is not a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


@register.filter(expects_localtime=True)
def cf_date(value: Any) -> str:
    if value is None or value == "":
        return formatting.EMPTY
    day = _day(value)
    return formatting.fmt_date(day) if day is not None else str(value)


@register.filter(expects_localtime=True)
def cf_date_full(value: Any) -> str:
    if value is None or value == "":
        return formatting.EMPTY
    day = _day(value)
    return formatting.fmt_date_full(day) if day is not None else str(value)


@register.filter(expects_localtime=True)
def cf_date_weekday(value: Any) -> str:
    if value is None or value == "":
        return formatting.EMPTY
    day = _day(value)
    return formatting.fmt_date_weekday(day) if day is not None else str(value)


def _when(func: Any, value: Any, tz: Any) -> str:
    if value is None or value == "":
        return formatting.EMPTY
    if isinstance(value, dt.datetime):
        return _safely(func, value, tz or value.tzinfo)
    day = _day(value)
    return formatting.fmt_date(day) if day is not None else str(value)


@register.filter(expects_localtime=True)
def cf_datetime(value: Any, tz: Any = None) -> str:
    return _when(formatting.fmt_datetime, value, tz)


@register.filter(expects_localtime=True)
def cf_datetime_full(value: Any, tz: Any = None) -> str:
    return _when(formatting.fmt_datetime_full, value, tz)
