"""Seed 004's comparison: ``extra`` more first patients a month, bought by a first-visit price cut or
through each paid channel at its marginal cost, and what each costs a month.

- price: the price at which the fitted elasticity brings ``extra`` more first visits; the cost is the
  first-visit revenue given up (every first patient pays less, the new ones pay the lower price)
  less the value the new patients bring beyond the first visit in a year (the value curve);
- a channel: the spend at which its fitted curve brings the unique calls that convert into
  ``extra`` first patients; the cost is that spend less the new patients' first-visit price and
  their value beyond it in a year.

A negative cost is a gain. Channels whose curve shows no returns (β ≤ 0) cannot buy patients."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from clinicflow.analytics.pricing.whatif import PlanModel

YEAR = 12


@dataclass
class Way:
    way: str  # "price" or the channel's code
    label: str
    lever: str  # the lever to set, as --set names it
    value: Decimal | None  # its value (None: cannot buy them this way)
    cost: Decimal | None  # a month, net of the new patients' value

    def as_json(self) -> dict[str, Any]:
        return {
            "way": self.way,
            "label": self.label,
            "lever": self.lever,
            "value": None if self.value is None else str(self.value),
            "cost": None if self.cost is None else str(self.cost),
        }


@dataclass
class Comparison:
    extra: int
    currency: str
    first_visits: float  # a month now
    value_beyond_first: Decimal  # per first patient, a year, beyond the first-visit price
    ways: list[Way]

    def as_json(self) -> dict[str, Any]:
        return {
            "extra": self.extra,
            "currency": self.currency,
            "first_visits": round(self.first_visits, 1),
            "value_beyond_first": str(self.value_beyond_first),
            "ways": [w.as_json() for w in self.ways],
        }


def _d(x: float) -> Decimal:
    return Decimal(str(round(x, 2))).quantize(Decimal("0.01"))


def compare_first_patients(model: PlanModel, extra: int) -> Comparison:
    extra = max(int(extra), 1)
    h = model.history
    fv0 = float(np.mean(h.cohort_size[-3:])) if len(h.cohort_size) else 0.0
    beyond = model.first_extra + float(model.value[1:YEAR].sum())
    price0 = float(np.mean(list(model.price.values()))) if model.price else 0.0
    cm = model.calls
    k = -float(cm.coef[len(cm.series)])  # the share fewer calls per unit of price (log scale)
    ways: list[Way] = []
    if k > 0 and fv0 > 0 and model.elasticity.estimated:
        new_price = price0 - math.log1p(extra / fv0) / k
        if new_price > 0:
            given_up = price0 * fv0 - new_price * (fv0 + extra)
            ways.append(
                Way(
                    "price",
                    "first_visit_price",
                    "first_visit_price",
                    _d(new_price),
                    _d(given_up - extra * beyond),
                )
            )
        else:
            ways.append(Way("price", "first_visit_price", "first_visit_price", None, None))
    by_id = {c.channel_id: c for c in model.elasticity.curves}
    for code, cid in sorted(model.channel_codes.items()):
        curve = by_id.get(cid)
        lever = f"channels.{code}.monthly_spend"
        label = curve.name if curve else code
        if curve is None or curve.beta <= 0 or curve.monthly_calls <= 0 or model.conversion <= 0:
            ways.append(Way(code, label, lever, None, None))
            continue
        s0, c0 = float(curve.monthly_spend), curve.monthly_calls
        calls = c0 + extra / model.conversion
        s1 = s0 * (calls / c0) ** (1 / curve.beta)
        cost = (s1 - s0) - extra * (price0 + beyond)
        ways.append(Way(code, label, lever, _d(s1), _d(cost)))
    return Comparison(
        extra=extra, currency=model.currency, first_visits=fv0, value_beyond_first=_d(beyond), ways=ways
    )
