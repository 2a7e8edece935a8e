"""Stored-value wallets of the simulation (issue #16; :mod:`.loyalty_use` holds the rest of what
members and wallet holders do): each plan sold puts its price into the patient's money and its bonus
into a lot lasting a year; a later visit is paid from the balance at the planted ``balance_pay``
(bonus first, the lot expiring first, then money); a plan is cancelled at the planted
``cancel_stored_value``, at a moment uniform over its term (the bonus's year), drawn from its own
stream ``[seed, 29, 1]`` so that every other draw stays as it was.

A cancellation follows the ledger's rule, :func:`~clinicflow.ledger.services.memberships.
stored_value_cancel_terms`: the money part still on the balance is paid back (at most the price) and
what the plan's bonus lot has left is forfeited; from the cancellation on, that lot pays nothing (the
writer skips it by the same moment). The refund is taken from the balance at the patient's first
visit or top-up after the cancellation (the visits before it were paid by then), or when the
cancellation is emitted (``due``), whichever comes first; the forfeit when it is emitted (the lot is
not used after the cancellation, so nothing changes it in between)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from clinicflow.ledger.services.memberships import stored_value_cancel_terms
from clinicflow.simulator.engine.state import DAY_S, World
from clinicflow.simulator.scenario import MEMBERSHIP_KINDS

if TYPE_CHECKING:
    from clinicflow.simulator.engine.loyalty_use import UsageTally

BONUS_VALID_DAYS = 365  # the stored-value plan's bonus lasts a year (``MembershipPlan.bonus_valid_days``)
STORED_VALUE_KIND = MEMBERSHIP_KINDS.index("stored_value")


@dataclass(eq=False)
class Stored:
    """A stored-value plan cancelled by now, until its cancellation is emitted. Compared by identity:
    its row holds arrays, and two plans sold alike are still two plans."""

    row: dict[str, Any]  # the sale's columns
    cancel_at: int
    lot: list[int] | None  # its bonus lot in the wallet
    refund: int = -1  # -1: not taken from the balance yet


@dataclass
class Wallet:
    since: int  # the latest top-up: only later visits are paid from the balance
    money: int = 0
    # bonus lots [left, expires at, usable until (the expiry, or the plan's cancellation)], oldest first
    lots: list[list[int]] = field(default_factory=list)
    cancels: list[Stored] = field(default_factory=list)  # cancellations whose refund is not taken yet


class Wallets:
    def __init__(self, world: World, p: dict[str, float], t: UsageTally, rng: np.random.Generator) -> None:
        self.now, self.p, self.t, self.rng = world.now, p, t, rng
        self.sv_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([world.seed, 29, 1])))
        self.by_patient: dict[int, Wallet] = {}
        self.pending: list[Stored] = []  # cancelled by now, not emitted yet

    def top_up(self, c: dict[str, np.ndarray], i: int) -> int:
        """A stored-value plan sold (row ``i`` of the sales ``c``): its money and bonus lot into the
        wallet, its cancellation drawn. Returns the moment it is cancelled by now (-1: not)."""
        p, at, now, t = int(c["patient"][i]), int(c["started"][i]), self.now, self.t
        end = at + BONUS_VALID_DAYS * DAY_S
        u_cancel, u_when = self.sv_rng.random(2)
        cancel_at = at + 1 + int(u_when * (end - at - 1))
        cancels = bool(u_cancel < self.p["cancel_stored_value"])
        # the chance that the cancellation's moment is by now, had it been drawn to cancel
        share = min(1.0, max(0.0, (now - at - 1) / (end - at - 1)))
        t.stored_exposure += share
        t.stored_exposure_sq += share * share
        if end <= now:
            t.whole_term[STORED_VALUE_KIND] += 1
            t.cancelled_in_term[STORED_VALUE_KIND] += int(cancels)
        wallet = self.by_patient.setdefault(p, Wallet(since=at))
        self._take_refunds(wallet, at)
        wallet.since = max(wallet.since, at)
        wallet.money += int(c["price"][i])
        by_now = cancels and cancel_at <= now
        lot = None
        if int(c["bonus"][i]) > 0:
            lot = [int(c["bonus"][i]), end, cancel_at if by_now else end]
            wallet.lots.append(lot)
        if not by_now:
            return -1
        t.cancelled[STORED_VALUE_KIND] += 1
        st = Stored(row={k: v[i] for k, v in c.items()}, cancel_at=cancel_at, lot=lot)
        wallet.cancels.append(st)
        self.pending.append(st)
        return cancel_at

    def _take_refunds(self, wallet: Wallet, t: int) -> None:
        """The refunds of the wallet's plans cancelled before ``t``, in order, from the money left."""
        due = sorted((s for s in wallet.cancels if s.cancel_at < t), key=lambda s: s.cancel_at)
        for st in due:
            st.refund, _ = stored_value_cancel_terms(
                price=int(st.row["price"]), money_left=wallet.money, bonus_left=0
            )
            wallet.money -= st.refund
            wallet.cancels.remove(st)

    def spend(self, p: int, t: int, price: int) -> tuple[int, int]:
        """A visit of patient ``p`` at ``t`` costing ``price``: (bonus, money) paid from the balance."""
        wallet = self.by_patient.get(p)
        if wallet is None or t <= wallet.since:
            return 0, 0
        self._take_refunds(wallet, t)
        usable = [lot for lot in wallet.lots if lot[1] > t and lot[2] > t and lot[0] > 0]
        if wallet.money + sum(lot[0] for lot in usable) <= 0:
            return 0, 0
        self.t.wallet_visits += 1
        if self.rng.random() >= self.p["balance_pay"]:
            return 0, 0
        want, bonus = price, 0
        for lot in sorted(usable, key=lambda x: x[1]):
            take = min(lot[0], want)
            lot[0] -= take
            bonus += take
            want -= take
        money = min(wallet.money, want)
        wallet.money -= money
        self.t.balance_paid += 1
        self.t.bonus_spent += bonus
        self.t.money_spent += money
        return bonus, money

    def due(self, before: int) -> list[Stored]:
        """The cancellations before ``before`` (every visit before each was paid), their refunds
        taken; no longer pending."""
        out = sorted((s for s in self.pending if s.cancel_at < before), key=lambda s: s.cancel_at)
        if out:
            self.pending = [s for s in self.pending if s.cancel_at >= before]
            for st in out:
                if st.refund < 0:  # no visit or top-up of the patient since: taken from the balance now
                    self._take_refunds(self.by_patient[int(st.row["patient"])], st.cancel_at + 1)
        return out

    def settle(self, stored: Sequence[Stored]) -> list[dict[str, Any]]:
        """The rows settling the cancellations (``settles``): the refund, and the bonus lot's rest
        forfeited."""
        rows = []
        for st in stored:
            forfeit = 0
            if st.lot is not None:
                _, forfeit = stored_value_cancel_terms(
                    price=int(st.row["price"]), money_left=0, bonus_left=st.lot[0]
                )
                st.lot[0] = 0
            ends = int(st.row["started"]) + BONUS_VALID_DAYS * DAY_S
            rows.append({
                **st.row, "ends": ends, "cancel_at": st.cancel_at, "refund": st.refund,
                "renewed_from": np.zeros(16, np.uint8), "renewal": False, "included": 0, "forfeit": forfeit,
                "settles": True,
            })  # fmt: skip
            self.t.stored_refunds += st.refund
            self.t.forfeited += forfeit
        return rows
