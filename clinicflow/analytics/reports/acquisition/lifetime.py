"""The channel report's lifetime figures (seed 004): the first patients' predicted lifetime value, per
first patient, and ROMI on the predicted lifetime margin.

Predicted lifetime value of a first patient = net revenue before the stored predictions' cut-off (the
end of their ``until`` day) + the stored predicted future value (``PatientPrediction.clv``, future net
revenue, discounted). A first patient without a stored prediction (first seen after the run) counts her
revenue only. ROMI on predicted lifetime margin = (predicted lifetime value × gross margin − spend) /
spend, beside ROMI to date = (revenue to date × gross margin − spend) / spend.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from clinicflow.acquisition.attribution import Tally
from clinicflow.core.money import Money, MoneyTotals

CENT = Decimal("0.01")


def lifetime_figures(
    lifetime: Money | None, arrived: Fraction, spend: Decimal, margin: Decimal
) -> dict[str, Any]:
    """``lifetime_value``, ``lifetime_per_patient`` and ``romi_lifetime`` (None without predictions)."""
    if lifetime is None:
        return {"lifetime_value": None, "lifetime_per_patient": None, "romi_lifetime": None}
    value = lifetime.amount
    per = (value * arrived.denominator / arrived.numerator).quantize(CENT) if arrived else None
    return {
        "lifetime_value": value,
        "lifetime_per_patient": per,
        "romi_lifetime": float((value * margin - spend) / spend) if spend else None,
    }


@dataclass
class Lifetime:
    """A channel's / campaign's credited first patients' value from the stored predictions: net revenue
    before the predictions' cut-off plus their predicted future value, per currency; ``predicted``
    counts (credited) the first patients that have a stored prediction."""

    revenue_until: MoneyTotals = field(default_factory=MoneyTotals)
    future: MoneyTotals = field(default_factory=MoneyTotals)
    predicted: Fraction = Fraction(0)


def as_uuid(value: Any) -> uuid.UUID | None:
    """An id as the database returns it (PostgreSQL: a UUID; SQLite: its hex text)."""
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def _money(value: Any, den: int, currency: str) -> Money:
    """A sum of cents credited 1/den, as exact money (rounded only in the report's totals)."""
    return Money(Decimal(value or 0) / (100 * den), currency)


def _order(row: Sequence[Any]) -> tuple[int, str, int, str]:
    return int(row[8]), str(as_uuid(row[0])), int(row[1]), str(row[4] or "")


def fold_first_patients(
    rows: Iterable[Sequence[Any]],
) -> tuple[dict[uuid.UUID | None, Tally], dict[uuid.UUID | None, Lifetime], dt.date | None]:
    """The rows of the first patients' statement (``first_patients.first_patients_sql``, or the same
    rows from the daily facts, ``owner.chan_reads``) per channel / campaign id: the ``Tally`` of the
    first visits and their revenue, the ``Lifetime`` value and the stored predictions' day (None when
    none of the first patients has a prediction). Rows are added in one order (kind, key, den,
    currency), so the sums of thirds (linear credit) are the same whatever order the database gave."""
    until: dt.date | None = None
    out: dict[uuid.UUID | None, Tally] = defaultdict(Tally)
    values: dict[uuid.UUID | None, Lifetime] = defaultdict(Lifetime)
    for key, den, booked, arrived, currency, a, b, c, kind, day in sorted(rows, key=_order):
        k = as_uuid(key)
        if int(kind) == 0:
            out[k].booked += Fraction(int(booked), den)
            out[k].arrived += Fraction(int(arrived), den)
        elif int(kind) == 1:
            if b is not None:  # paid before the period's end (else only before the cut-off)
                out[k].revenue_period.add(_money(a, den, currency))
                out[k].revenue_to_date.add(_money(b, den, currency))
            if c is not None:
                values[k].revenue_until.add(_money(c, den, currency))
        else:
            values[k].future.add(_money(a, den, currency))
            values[k].predicted += Fraction(int(b), den)
            day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day)[:10])
            until = day if until is None else max(until, day)
    return dict(out), dict(values), until
