"""Exact money: a Decimal amount with its ISO 4217 currency. Never a float.

Money crosses function boundaries as ``Money`` (amount and currency together). Arithmetic is defined
only between ``Money`` values of one currency (``Money + Decimal`` is a type error; ``RUB + EUR``
raises ``MoneyError``), and ``Money`` has no ``__radd__``, so the built-in ``sum`` cannot start from 0
and silently mix currencies: totals are taken with ``money_sum`` (one currency, named) or kept per
currency in ``MoneyTotals``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# Minor units per currency (ISO 4217); the documented rounding mode is banker's rounding.
MINOR_UNITS = {"RUB": 2, "CNY": 2, "EUR": 2, "USD": 2, "GBP": 2, "KZT": 2, "JPY": 0, "CHF": 2}
CURRENCIES = sorted(MINOR_UNITS)
ROUNDING = ROUND_HALF_EVEN


class MoneyError(ValueError):
    pass


def to_decimal(value: object) -> Decimal:
    """Parse an amount. Floats are refused: they cannot carry kopecks exactly."""
    if isinstance(value, float):
        raise MoneyError("money amounts must not be floats")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        try:
            result = Decimal(text)
        except InvalidOperation as exc:
            raise MoneyError(f"not a number: {value!r}") from exc
    else:
        raise MoneyError(f"not an amount: {type(value).__name__}")
    if not result.is_finite():
        raise MoneyError("amount must be a finite number")
    return result


def quantize(amount: Decimal, currency: str) -> Decimal:
    places = MINOR_UNITS.get(currency, 2)
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUNDING)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, float):
            raise MoneyError("money amounts must not be floats")
        if self.currency not in MINOR_UNITS:
            raise MoneyError(f"unknown currency {self.currency!r}")

    @classmethod
    def of(cls, amount: object, currency: str) -> Money:
        return cls(quantize(to_decimal(amount), currency), currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        """Scaled by a count or an exact ratio, rounded to the currency's minor unit."""
        if isinstance(factor, float | Money):
            raise MoneyError("money is multiplied by an int or a Decimal only")
        return Money(quantize(self.amount * factor, self.currency), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise MoneyError("cannot mix currencies")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def money_sum(items: Iterable[Money], currency: str) -> Money:
    """The total of amounts in one named currency (zero when empty); another currency raises."""
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total


class MoneyTotals(Mapping[str, Money]):
    """Totals kept apart per currency: what a chain's figures over branches in RUB and EUR add up to."""

    def __init__(self, items: Iterable[Money] = ()) -> None:
        self._totals: dict[str, Money] = {}
        for item in items:
            self.add(item)

    def add(self, item: Money) -> None:
        current = self._totals.get(item.currency)
        self._totals[item.currency] = item if current is None else current + item

    def __getitem__(self, currency: str) -> Money:
        return self._totals[currency]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._totals))

    def __len__(self) -> int:
        return len(self._totals)

    def single(self) -> Money | None:
        """The one total when every amount had one currency, else None (never a mixed sum)."""
        return next(iter(self._totals.values())) if len(self._totals) == 1 else None
