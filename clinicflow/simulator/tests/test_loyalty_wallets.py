"""The simulation's stored-value wallets: a patient's two cancelled plans whose sale rows are alike
(rows holding arrays) are refunded one after the other (chain-1m's run stopped here once, comparing
the two rows' arrays to find which plan to drop)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from clinicflow.simulator.engine.loyalty_wallets import Stored, Wallet, Wallets


def _wallets() -> Wallets:
    world = SimpleNamespace(now=10_000, seed=1)
    return Wallets(
        world, {"cancel_stored_value": 0.0, "balance_pay": 1.0}, SimpleNamespace(), np.random.default_rng(1)
    )  # type: ignore[arg-type]


def _row() -> dict[str, object]:
    """A sale's columns, as the engine slices them: a new array per plan."""
    return {"price": np.int64(5_000), "items": np.array([1, 2, 3])}


def test_two_alike_cancelled_plans_are_refunded_in_turn() -> None:
    first = Stored(row=_row(), cancel_at=100, lot=None)
    second = Stored(row=_row(), cancel_at=200, lot=None)
    wallet = Wallet(since=0, money=7_000, cancels=[second, first])

    _wallets()._take_refunds(wallet, 300)

    # the first takes its whole price back from the 7,000 on the balance, the second what is left
    assert (first.refund, second.refund) == (5_000, 2_000)
    assert wallet.money == 0
    assert wallet.cancels == []


def test_a_plan_cancelled_later_stays_until_its_moment() -> None:
    early = Stored(row=_row(), cancel_at=100, lot=None)
    late = Stored(row=_row(), cancel_at=900, lot=None)
    wallet = Wallet(since=0, money=8_000, cancels=[late, early])

    _wallets()._take_refunds(wallet, 500)

    assert early.refund == 5_000 and late.refund == -1
    assert wallet.cancels == [late] and wallet.money == 3_000
