"""Numbers, money, percentages and dates for the interface language (CLDR data through Babel).

The active Django language decides the locale (``en``, ``ru``, ``zh-hans``), so a page, an e-mail or
a command formats the same way wherever it runs. Every function returns ``"—"`` for ``None`` or an
empty value, groups digits in every language (``1,234`` / ``1 234`` with a no-break space /
``1,234``) and never goes through a float: amounts are ``Decimal`` from the caller to the text.

Dates: ``fmt_date`` is a day and a month ("5 December", "5 декабря" in the genitive, "12月5日"),
``fmt_date_full`` adds the year, ``fmt_datetime`` adds the time on a 24-hour clock in a given zone
(``fmt_datetime_full`` with the year too).
Exports (CSV, XLSX, JSON) keep raw numbers: these functions are for people, not for machines.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.numbers import format_decimal, get_currency_symbol
from django.conf import settings
from django.utils import timezone, translation

from clinicflow.core.money import MINOR_UNITS, Money

EMPTY = "—"

# Django language code -> Babel locale.
LOCALES = {"en": "en", "ru": "ru", "zh-hans": "zh_Hans_CN"}

# A symbol for currencies whose CLDR symbol in a locale is just the ISO code ("RUB1,234.50" in English).
NARROW_SYMBOLS = {"RUB": "₽", "KZT": "₸", "CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£"}

# Day and month, day month and year, per language (CLDR's own skeletons give "December 5" for English).
DATE_PATTERNS = {"en": "d MMMM", "ru": "d MMMM", "zh-hans": "M月d日"}
DATE_FULL_PATTERNS = {"en": "d MMMM y", "ru": "d MMMM y 'г'.", "zh-hans": "y年M月d日"}
WEEKDAY_DATE_PATTERNS = {"en": "EEE, d MMMM", "ru": "EEE, d MMMM", "zh-hans": "M月d日 EEE"}
DATETIME_JOIN = {"en": "{date}, {time}", "ru": "{date}, {time}", "zh-hans": "{date} {time}"}
TIME_PATTERN = "HH:mm"

_FRACTION = re.compile(r"0(?:\.[0#]+)?")

Number = int | Decimal | float | str


def language() -> str:
    """The active language as one of ``LOCALES``' keys (the default language when none is active)."""
    code = (translation.get_language() or settings.LANGUAGE_CODE).lower()
    if code in LOCALES:
        return code
    if code.startswith("zh"):
        return "zh-hans"
    prefix = code.split("-")[0]
    return prefix if prefix in LOCALES else "en"


@lru_cache(maxsize=8)
def _locale(lang: str) -> Locale:
    return Locale.parse(LOCALES[lang])


def current_locale() -> Locale:
    """The Babel locale of the active Django language."""
    return _locale(language())


def _decimal(value: Number) -> Decimal:
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise TypeError("not a number")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def _with_places(pattern: str, places: int) -> str:
    """A CLDR number pattern showing exactly ``places`` decimals (``#,##0.###`` -> ``#,##0.00``)."""
    fraction = "." + "0" * places if places > 0 else ""
    return _FRACTION.sub("0" + fraction, pattern)


def _quantized(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def _number(value: Decimal, places: int, locale: Locale) -> str:
    pattern = _with_places(locale.decimal_formats[None].pattern, places)
    return format_decimal(_quantized(value, places), format=pattern, locale=locale)


def fmt_int(n: Number | None) -> str:
    """A count: grouped, no decimals (half-even rounding), "—" when missing."""
    if n is None or n == "":
        return EMPTY
    return _number(_decimal(n), 0, current_locale())


def fmt_decimal(x: Number | None, places: int = 2) -> str:
    """A number with exactly ``places`` decimals, grouped, in the interface language."""
    if x is None or x == "":
        return EMPTY
    return _number(_decimal(x), max(0, int(places)), current_locale())


def currency_symbol(currency: str, locale: Locale | None = None) -> str:
    """The symbol a reader of ``locale`` knows (₽ rather than RUB in English)."""
    locale = locale or current_locale()
    symbol = get_currency_symbol(currency, locale)
    if symbol == currency:
        symbol = NARROW_SYMBOLS.get(currency, symbol)
    return symbol


def fmt_money(amount: Money | Number | None, currency: str = "") -> str:
    """An amount with its currency symbol and the currency's minor units (0 for JPY, 2 for RUB).

    ``amount`` may be a ``Money`` (its own currency wins) or a ``Decimal``/``int``/``str`` with
    ``currency``; without a currency the amount is shown with two decimals and no symbol.
    """
    if isinstance(amount, Money):
        value, currency = amount.amount, amount.currency
    elif amount is None or amount == "":
        return EMPTY
    else:
        value = _decimal(amount)
    locale = current_locale()
    currency = (currency or "").upper()
    if not currency:
        return _number(value, 2, locale)
    places = MINOR_UNITS.get(currency, 2)
    symbol = currency_symbol(currency, locale)
    pattern = _with_places(locale.currency_formats["standard"].pattern, places)
    if symbol.isalpha() and pattern.startswith("¤"):
        symbol += "\u00a0"  # "CHF 1,234.50", never "CHF1,234.50"
    pattern = pattern.replace("¤", "'" + symbol.replace("'", "") + "'")
    return format_decimal(_quantized(value, places), format=pattern, locale=locale)


def fmt_percent(fraction: Number | None, places: int = 1) -> str:
    """A fraction (0.123) as a percentage ("12.3%", "12,3 %"), with ``places`` decimals."""
    if fraction is None or fraction == "":
        return EMPTY
    locale = current_locale()
    value = _quantized(_decimal(fraction) * 100, max(0, int(places)))
    pattern = _with_places(locale.percent_formats[None].pattern, max(0, int(places)))
    # The pattern multiplies by 100 itself: hand it the fraction again, already rounded.
    return format_decimal(value / 100, format=pattern, locale=locale)


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


def fmt_date(d: dt.date | dt.datetime | None) -> str:
    """Day and month: "5 December", "5 декабря", "12月5日" (an aware datetime in the current zone)."""
    if d is None or d == "":
        return EMPTY
    lang = language()
    return babel_format_date(_as_date(d), DATE_PATTERNS[lang], locale=_locale(lang))


def fmt_date_full(d: dt.date | dt.datetime | None) -> str:
    """Day, month and year: "5 December 2026", "5 декабря 2026 г.", "2026年12月5日"."""
    if d is None or d == "":
        return EMPTY
    lang = language()
    return babel_format_date(_as_date(d), DATE_FULL_PATTERNS[lang], locale=_locale(lang))


def fmt_date_weekday(d: dt.date | dt.datetime | None) -> str:
    """Weekday, day and month for calendars: "Sat, 5 December", "сб, 5 декабря", "12月5日 周六"."""
    if d is None or d == "":
        return EMPTY
    lang = language()
    return babel_format_date(_as_date(d), WEEKDAY_DATE_PATTERNS[lang], locale=_locale(lang))


def _zone(tz: Any) -> dt.tzinfo:
    if tz is None or tz == "":
        return timezone.get_current_timezone()
    if isinstance(tz, dt.tzinfo):
        return tz
    return ZoneInfo(str(tz))


def _datetime(value: dt.datetime, tz: Any, patterns: dict[str, str]) -> str:
    if timezone.is_aware(value):
        value = value.astimezone(_zone(tz))
    lang = language()
    locale = _locale(lang)
    day = babel_format_date(value.date(), patterns[lang], locale=locale)
    time = babel_format_time(value.time(), TIME_PATTERN, locale=locale)
    return DATETIME_JOIN[lang].format(date=day, time=time)


def fmt_datetime(value: dt.datetime | None, tz: dt.tzinfo | str | None = None) -> str:
    """Day, month and time in ``tz`` (the current zone when omitted): "5 декабря, 14:30"."""
    if value is None or value == "":
        return EMPTY
    return _datetime(value, tz, DATE_PATTERNS)


def fmt_datetime_full(value: dt.datetime | None, tz: dt.tzinfo | str | None = None) -> str:
    """``fmt_datetime`` with the year, for records kept for years: "5 декабря 2026 г., 14:30"."""
    if value is None or value == "":
        return EMPTY
    return _datetime(value, tz, DATE_FULL_PATTERNS)
