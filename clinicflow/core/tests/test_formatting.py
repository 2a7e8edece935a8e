"""Numbers, money, percentages and dates in the three interface languages (clinicflow.core.formatting)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from clinicflow.core.formatting import (
    fmt_date,
    fmt_date_full,
    fmt_date_weekday,
    fmt_datetime,
    fmt_datetime_full,
    fmt_decimal,
    fmt_int,
    fmt_money,
    fmt_percent,
    language,
)
from clinicflow.core.money import Money

NBSP = "\u00a0"
DEC5 = dt.date(2026, 12, 5)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "1,234,567"), ("ru", f"1{NBSP}234{NBSP}567"), ("zh-hans", "1,234,567")],
)
def test_counts_are_grouped_in_every_language(lang: str, expected: str) -> None:
    with translation.override(lang):
        assert fmt_int(1234567) == expected
        assert fmt_int(Decimal("1234567")) == expected


def test_counts_have_no_decimals() -> None:
    with translation.override("en"):
        assert fmt_int(Decimal("12.0")) == "12"
        assert fmt_int(7.6) == "8"
        assert fmt_int("3") == "3"
        assert fmt_int(0) == "0"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "1,234.50"), ("ru", f"1{NBSP}234,50"), ("zh-hans", "1,234.50")],
)
def test_decimals_show_exactly_the_places_asked(lang: str, expected: str) -> None:
    with translation.override(lang):
        assert fmt_decimal(Decimal("1234.5"), 2) == expected
        assert fmt_decimal(Decimal("0.125"), 2) == ("0.12" if lang != "ru" else "0,12")  # half-even
        assert fmt_decimal(Decimal("1234.5"), 0) == ("1,234" if lang != "ru" else f"1{NBSP}234")


@pytest.mark.parametrize(
    ("lang", "currency", "expected"),
    [
        ("ru", "RUB", f"1{NBSP}827{NBSP}958,54{NBSP}₽"),
        ("en", "RUB", "₽1,827,958.54"),
        ("zh-hans", "CNY", "¥1,827,958.54"),
        ("en", "EUR", "€1,827,958.54"),
        ("en", "CNY", "CN¥1,827,958.54"),
        ("ru", "KZT", f"1{NBSP}827{NBSP}958,54{NBSP}₸"),
    ],
)
def test_money_has_its_symbol_and_two_minor_units(lang: str, currency: str, expected: str) -> None:
    with translation.override(lang):
        assert fmt_money(Decimal("1827958.54"), currency) == expected


def test_money_keeps_every_kopeck_of_a_decimal() -> None:
    with translation.override("en"):
        assert fmt_money(Decimal("0.10"), "RUB") == "₽0.10"
        assert fmt_money(Decimal("1827958.545"), "RUB") == "₽1,827,958.54"  # banker's rounding
        assert fmt_money(Decimal("100"), "RUB") == "₽100.00"


def test_a_currency_without_minor_units_shows_none() -> None:
    with translation.override("en"):
        assert fmt_money(Decimal("12345"), "JPY") == "¥12,345"
    with translation.override("ru"):
        assert fmt_money(Money.of(12345, "JPY")) == f"12{NBSP}345{NBSP}¥"


def test_money_value_carries_its_own_currency() -> None:
    with translation.override("zh-hans"):
        assert fmt_money(Money.of("99.9", "CNY")) == "¥99.90"
        assert fmt_money(Money.of("-5", "CNY")) == "-¥5.00"


def test_a_code_only_currency_is_spaced_from_the_amount() -> None:
    with translation.override("en"):
        assert fmt_money(Decimal("5"), "CHF") == f"CHF{NBSP}5.00"


@pytest.mark.parametrize(
    ("lang", "one_place", "whole"),
    [("en", "12.3%", "50%"), ("ru", f"12,3{NBSP}%", f"50{NBSP}%"), ("zh-hans", "12.3%", "50%")],
)
def test_percent_from_a_fraction(lang: str, one_place: str, whole: str) -> None:
    with translation.override(lang):
        assert fmt_percent(Decimal("0.1234")) == one_place
        assert fmt_percent(0.5, 0) == whole
        assert fmt_percent(Decimal("0.05"), 2) == ("5,00" + NBSP + "%" if lang == "ru" else "5.00%")


@pytest.mark.parametrize("func", [fmt_int, fmt_decimal, fmt_money, fmt_percent, fmt_date, fmt_date_full])
def test_missing_values_are_a_dash(func: object) -> None:
    with translation.override("ru"):
        assert func(None) == "—"  # type: ignore[operator]
        assert func("") == "—"  # type: ignore[operator]
    assert fmt_datetime(None) == "—"


def test_russian_dates_are_in_the_genitive() -> None:
    with translation.override("ru"):
        assert fmt_date(DEC5) == "5 декабря"
        assert fmt_date(dt.date(2026, 3, 1)) == "1 марта"
        assert fmt_date_full(DEC5) == "5 декабря 2026 г."


def test_chinese_dates_are_month_and_day_characters() -> None:
    with translation.override("zh-hans"):
        assert fmt_date(DEC5) == "12月5日"
        assert fmt_date_full(DEC5) == "2026年12月5日"


def test_english_dates() -> None:
    with translation.override("en"):
        assert fmt_date(DEC5) == "5 December"
        assert fmt_date_full(DEC5) == "5 December 2026"


def test_datetime_is_shown_in_the_given_zone() -> None:
    moment = dt.datetime(2026, 12, 5, 22, 30, tzinfo=dt.UTC)
    with translation.override("ru"):
        assert fmt_datetime(moment, "Europe/Moscow") == "6 декабря, 01:30"
    with translation.override("zh-hans"):
        assert fmt_datetime(moment, ZoneInfo("Asia/Shanghai")) == "12月6日 06:30"
    with translation.override("en"), timezone.override("Asia/Novosibirsk"):
        assert fmt_datetime(moment) == "6 December, 05:30"


def test_an_aware_datetime_as_a_date_is_the_local_day() -> None:
    moment = dt.datetime(2026, 12, 5, 22, 30, tzinfo=dt.UTC)
    with translation.override("ru"), timezone.override("Asia/Shanghai"):
        assert fmt_date(moment) == "6 декабря"


def test_language_follows_django_and_falls_back_to_the_default() -> None:
    with translation.override("zh-hans"):
        assert language() == "zh-hans"
    with translation.override("ru"):
        assert language() == "ru"
    with translation.override(None):
        assert language() == "en"


def test_template_filters_format_for_the_active_language() -> None:
    template = Template(
        "{% load cf_format %}{{ n|cf_int }}|{{ x|cf_num:1 }}|{{ m|cf_money:cur }}|{{ mv|cf_money }}|"
        "{{ f|cf_pct }}|{{ d|cf_date }}|{{ d|cf_date_full }}|{{ when|cf_datetime:tz }}|{{ none|cf_int }}|"
        "{{ junk|cf_int }}"
    )
    context = Context(
        {
            "n": 48210,
            "x": Decimal("3.25"),
            "m": Decimal("1500"),
            "cur": "RUB",
            "mv": Money.of(7, "JPY"),
            "f": Decimal("0.425"),
            "d": DEC5,
            "when": dt.datetime(2026, 12, 5, 9, 5, tzinfo=dt.UTC),
            "tz": "Europe/Moscow",
            "none": None,
            "junk": "n/a",
        }
    )
    with translation.override("ru"):
        assert template.render(context) == (
            f"48{NBSP}210|3,2|1{NBSP}500,00{NBSP}₽|7{NBSP}¥|42,5{NBSP}%|5 декабря|5 декабря 2026 г.|"
            "5 декабря, 12:05|—|n/a"
        )
    with translation.override("zh-hans"):
        assert template.render(context) == (
            "48,210|3.2|₽1,500.00|JP¥7|42.5%|12月5日|2026年12月5日|12月5日 12:05|—|n/a"
        )


def test_datetime_with_the_year() -> None:
    moment = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)
    with translation.override("ru"):
        assert fmt_datetime_full(moment, "Europe/Moscow") == "5 декабря 2026 г., 12:00"
    with translation.override("zh-hans"):
        assert fmt_datetime_full(moment, "Asia/Shanghai") == "2026年12月5日 17:00"


def test_filters_keep_the_zone_a_timezone_filter_chose() -> None:
    template = Template(
        "{% load tz cf_format %}{{ when|timezone:zone|cf_datetime }}|{{ when|timezone:zone|cf_date }}|"
        "{{ when|cf_datetime }}|{{ when|cf_datetime_full:zone }}"
    )
    context = Context({"when": dt.datetime(2026, 12, 5, 20, 30, tzinfo=dt.UTC), "zone": "Asia/Shanghai"})
    with translation.override("en"), timezone.override("Europe/Moscow"):
        assert template.render(context) == (
            "6 December, 04:30|6 December|5 December, 23:30|6 December 2026, 04:30"
        )


def test_calendar_days_have_their_weekday() -> None:
    with translation.override("en"):
        assert fmt_date_weekday(DEC5) == "Sat, 5 December"
    with translation.override("ru"):
        assert fmt_date_weekday(DEC5) == "сб, 5 декабря"
    with translation.override("zh-hans"):
        assert fmt_date_weekday(DEC5) == "12月5日 周六"
