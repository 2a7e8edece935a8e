"""The planted use of memberships and balances in the truth document (issue #16): included procedures
used at checkout, cancellations and renewals, visits paid from a stored-value balance, stored-value
plans cancelled (:mod:`clinicflow.simulator.engine.loyalty_use`, :mod:`.loyalty_wallets`), each
planted rate next to the realised one with its binomial standard error."""

from __future__ import annotations

import math
from typing import Any

from clinicflow.simulator.engine.core import Simulation
from clinicflow.simulator.engine.loyalty_use import STORED_VALUE, TRACKED, usage_params
from clinicflow.simulator.scenario import MEMBERSHIP_KINDS

DEFINITIONS = {
    "included_use": "visits paid with an included procedure / eligible visits (a paid visit of a member, of "
    "the procedure the plan includes, inside the active term, with an included procedure left); "
    "allowed: the included procedures of every membership sold or renewed",
    "cancel": "memberships cancelled during their term / memberships whose whole term ended by now "
    "(cancelled or not); refunds follow the ledger's rule (pro-rata − used at list price)",
    "renew": "memberships renewed at the end of their term / memberships that ran their whole term by now "
    "without being cancelled; churned = cancelled + ended without renewal",
    "balance_pay": "visits paid from the stored-value balance / visits of a patient with a balance left "
    "after her top-up (bonus first, then money)",
    "stored_value_cancel": "stored-value plans cancelled during their term (the bonus's year) / those whose "
    "term ended by now (cancelled or not); by_now: cancelled by now / exposure, the sum over every plan "
    "sold of the share of its term elapsed by now (the chance its cancellation's moment, uniform over the "
    "term, is by now), se = sqrt(sum of p·f(1 − p·f)) / exposure; refund = the money part left on the "
    "balance (at most the price), forfeited = what the plan's bonus lot had left (the ledger's "
    "stored_value_cancel_terms)",
    "unrecognised": "price of the visits paid with an included procedure (the fee is the revenue) or with "
    "bonus: not revenue, left out of the revenue figures",
}


def _rate(k: int, n: int) -> dict[str, Any]:
    p = k / n if n else None
    return {
        "k": k,
        "n": n,
        "rate": round(p, 4) if p is not None else None,
        "se": round(math.sqrt(p * (1 - p) / n), 4) if p is not None else None,
    }


def loyalty_use_truth(sim: Simulation) -> dict[str, Any]:
    use = sim.booking.loyalty.use
    t, p = use.t, usage_params(sim.scn.raw)
    per_kind: dict[str, Any] = {}
    for k in TRACKED:
        name = MEMBERSHIP_KINDS[k]
        per_kind[name] = {
            "planted": {
                "included_use": p[f"use_{name}"],
                "cancel": p[f"cancel_{name}"],
                "renew": p[f"renew_{name}"],
            },
            "realised": {
                "sold": int(t.sold[k]),
                "renewals": int(t.renewals[k]),
                "allowed": int(t.allowed[k]),
                "used": int(t.used[k]),
                "included_use": _rate(int(t.used[k]), int(t.eligible[k])),
                "cancel": _rate(int(t.cancelled_in_term[k]), int(t.whole_term[k])),
                "cancelled": int(t.cancelled[k]),
                "renew": _rate(int(t.renewed[k]), int(t.ran_term[k])),
            },
        }
    k, exposure = int(t.cancelled[STORED_VALUE]), t.stored_exposure
    rate = k / exposure if exposure else None
    stored = {
        "planted": {"cancel": p["cancel_stored_value"]},
        "realised": {
            "sold": int(t.sold[STORED_VALUE]),
            "cancel": _rate(int(t.cancelled_in_term[STORED_VALUE]), int(t.whole_term[STORED_VALUE])),
            "cancelled": k,
            "by_now": {
                "k": k,
                "exposure": round(exposure, 4),
                "rate": round(rate, 4) if rate is not None else None,
                # a binomial per plan with p = rate × its share f of the term: var = Σ p (1 − p)
                "se": (
                    round(math.sqrt(max(rate * exposure - rate**2 * t.stored_exposure_sq, 0.0)) / exposure, 4)
                    if rate is not None
                    else None
                ),
            },
            "refunds": round(t.stored_refunds / 100, 2),
            "forfeited": round(t.forfeited / 100, 2),
        },
    }
    return {
        "planted": {
            "term_days": int(p["term_days"]),
            "fee_included": int(p["fee_included"]),
            "balance_pay": p["balance_pay"],
        },
        "plans": per_kind,
        "stored_value": stored,
        "realised": {
            "balance_pay": _rate(t.balance_paid, t.wallet_visits),
            "bonus_spent": round(t.bonus_spent / 100, 2),
            "money_spent": round(t.money_spent / 100, 2),
            "refunds": round(t.refunds / 100, 2),
            "included_value": round(t.included_value / 100, 2),
            "unrecognised": round((t.included_value + t.bonus_spent) / 100, 2),
        },
        "definitions": DEFINITIONS,
    }
