"""Exact money: a Decimal amount with its ISO 4217 currency. Never a float."""

from __future__ import annotations

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

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise MoneyError("cannot mix currencies")

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
