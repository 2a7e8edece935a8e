"""Money: a Decimal amount with its currency; never a float, never a sum across currencies."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from clinicflow.core.money import CURRENCIES, Money, MoneyError, MoneyTotals, money_sum, quantize, to_decimal


def rub(amount: str) -> Money:
    return Money.of(amount, "RUB")


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


# --- parsing and construction -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1500", Decimal("1500")),
        ("1 500,50", Decimal("1500.50")),
        ("1\u00a0500.5", Decimal("1500.5")),
        (" -12.30 ", Decimal("-12.30")),
        (7, Decimal(7)),
        (Decimal("0.01"), Decimal("0.01")),
    ],
)
def test_amounts_are_parsed_exactly(raw: object, expected: Decimal) -> None:
    assert to_decimal(raw) == expected


@pytest.mark.parametrize("raw", [1.5, 0.1, float("nan")])
def test_floats_are_refused(raw: float) -> None:
    with pytest.raises(MoneyError, match="float"):
        to_decimal(raw)
    with pytest.raises(MoneyError, match="float"):
        Money.of(raw, "RUB")
    with pytest.raises(MoneyError, match="float"):
        Money(raw, "RUB")  # type: ignore[arg-type]  # the mistake under test


@pytest.mark.parametrize("raw", ["abc", "", "1.2.3", "NaN", "Infinity", "-inf", None, [1], object()])
def test_what_is_not_a_finite_number_is_refused(raw: object) -> None:
    with pytest.raises(MoneyError):
        Money.of(raw, "RUB")


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(MoneyError, match="unknown currency"):
        Money(Decimal(1), "XXX")
    with pytest.raises(MoneyError, match="unknown currency"):
        Money.of("1", "rub")
    assert sorted(CURRENCIES) == CURRENCIES and "RUB" in CURRENCIES and "CNY" in CURRENCIES


@pytest.mark.parametrize(
    ("raw", "currency", "expected"),
    [
        ("0.125", "RUB", Decimal("0.12")),  # banker's rounding: to the even kopeck
        ("0.135", "RUB", Decimal("0.14")),
        ("10", "EUR", Decimal("10.00")),
        ("100.5", "JPY", Decimal("100")),  # no minor unit
        ("101.5", "JPY", Decimal("102")),
    ],
)
def test_of_rounds_to_the_currencys_minor_unit_half_to_even(
    raw: str, currency: str, expected: Decimal
) -> None:
    money = Money.of(raw, currency)
    assert money.amount == expected
    assert str(money.amount) == str(expected)
    assert money.currency == currency
    assert quantize(Decimal(raw), currency) == expected


def test_money_is_immutable_and_compares_by_amount_and_currency() -> None:
    price = rub("100")
    with pytest.raises(dataclasses.FrozenInstanceError):
        price.amount = Decimal(1)  # type: ignore[misc]  # the mistake under test
    assert price == Money(Decimal("100.00"), "RUB")
    assert price != Money(Decimal("100.00"), "EUR")
    assert len({price, rub("100.00")}) == 1
    assert str(price) == "100.00 RUB"


# --- arithmetic within one currency -----------------------------------------------------------------


def test_adding_and_subtracting_one_currency() -> None:
    assert rub("100.10") + rub("0.90") == rub("101.00")
    assert rub("100") - rub("150.50") == rub("-50.50")
    assert -rub("12.30") == rub("-12.30")
    assert Money.zero("EUR") == eur("0") and Money.zero("EUR").is_zero and not eur("0.01").is_zero


def test_multiplying_by_a_count_or_a_decimal_rounds_to_the_minor_unit() -> None:
    assert rub("1500.00") * 3 == rub("4500.00")
    assert rub("10.00") * Decimal("0.333") == rub("3.33")
    assert rub("0.05") * Decimal("0.5") == rub("0.02")  # 0.025 -> to the even kopeck


@pytest.mark.parametrize("factor", [1.5, Money.of("2", "RUB")])
def test_multiplying_by_a_float_or_by_money_is_refused(factor: Any) -> None:
    with pytest.raises(MoneyError):
        rub("10") * factor


def test_comparisons_within_one_currency() -> None:
    assert rub("1") < rub("2") <= rub("2") and rub("3") > rub("2") >= rub("2")
    assert sorted([rub("3"), rub("1"), rub("2")]) == [rub("1"), rub("2"), rub("3")]


# --- mixing currencies is impossible ----------------------------------------------------------------


@pytest.mark.parametrize(
    "mix",
    [
        lambda: rub("1") + eur("1"),
        lambda: rub("1") - eur("1"),
        lambda: rub("1") < eur("1"),
        lambda: rub("1") <= eur("1"),
        lambda: rub("1") > eur("1"),
        lambda: rub("1") >= eur("1"),
    ],
)
def test_mixing_currencies_raises(mix: Any) -> None:
    with pytest.raises(MoneyError, match="cannot mix currencies"):
        mix()


def test_adding_a_bare_number_raises() -> None:
    with pytest.raises(MoneyError):
        rub("1") + Decimal(1)  # type: ignore[operator]  # the mistake under test
    with pytest.raises(TypeError):
        Decimal(1) + rub("1")  # type: ignore[operator]  # the mistake under test


def test_builtin_sum_without_a_start_is_a_type_error() -> None:
    """``sum`` starts from 0 and Money has no ``__radd__``: a total must name its currency."""
    with pytest.raises(TypeError):
        sum([rub("1"), rub("2")])  # type: ignore[arg-type]  # the mistake under test
    with pytest.raises(TypeError):
        sum([rub("1")])  # type: ignore[arg-type]  # the mistake under test
    assert sum([rub("1"), rub("2")], Money.zero("RUB")) == rub("3")


# --- totals -----------------------------------------------------------------------------------------


def test_money_sum_totals_one_named_currency() -> None:
    assert money_sum([rub("100.50"), rub("0.50"), rub("-1")], "RUB") == rub("100.00")
    assert money_sum(iter([eur("1")]), "EUR") == eur("1")


def test_money_sum_of_nothing_is_zero_in_that_currency() -> None:
    total = money_sum([], "CNY")
    assert total == Money.zero("CNY") and total.currency == "CNY"


def test_money_sum_refuses_another_currency() -> None:
    with pytest.raises(MoneyError, match="cannot mix currencies"):
        money_sum([rub("1"), eur("1")], "RUB")
    with pytest.raises(MoneyError, match="cannot mix currencies"):
        money_sum([eur("1")], "RUB")


def test_money_totals_keep_currencies_apart() -> None:
    totals = MoneyTotals([rub("100"), eur("5"), rub("50.50")])
    totals.add(eur("0.25"))
    assert dict(totals) == {"EUR": eur("5.25"), "RUB": rub("150.50")}
    assert list(totals) == ["EUR", "RUB"]  # sorted by currency
    assert len(totals) == 2
    assert totals["RUB"] == rub("150.50")
    assert "USD" not in totals
    with pytest.raises(KeyError):
        totals["USD"]
    assert totals.single() is None  # never a mixed sum


def test_money_totals_single_is_the_total_of_one_currency() -> None:
    assert MoneyTotals([rub("1"), rub("2")]).single() == rub("3")
    assert MoneyTotals().single() is None
    assert len(MoneyTotals()) == 0 and dict(MoneyTotals()) == {}
