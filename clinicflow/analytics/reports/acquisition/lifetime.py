"""The channel report's lifetime figures (seed 004): the first patients' predicted lifetime value, per
first patient, and ROMI on the predicted lifetime margin.

Predicted lifetime value of a first patient = net revenue before the stored predictions' cut-off (the
end of their ``until`` day) + the stored predicted future value (``PatientPrediction.clv``, future net
revenue, discounted). A first patient without a stored prediction (first seen after the run) counts her
revenue only. ROMI on predicted lifetime margin = (predicted lifetime value × gross margin − spend) /
spend, beside ROMI to date = (revenue to date × gross margin − spend) / spend.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from clinicflow.core.money import Money

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
