"""What members and wallet holders do after the sale (issue #16): included procedures used at
checkout, memberships cancelled or not renewed, visits paid from a stored-value balance.

Planted (``[loyalty.usage]`` of the scenario, defaults in ``DEFAULTS``), drawn from the run's own
random stream (``[seed, 29]``), so the rest of the simulation draws what it drew before:

- ``term_days``: the term of a fee-based or package membership;
- ``use_fee`` / ``use_package``: the chance that a member's *eligible* visit — a paid visit of the
  procedure the plan includes (the service of the episode it was bought at), inside the active term,
  with an included procedure left — is paid with it (the ledger's ``included`` tender); the others
  pay as usual (the member keeps it for later, or forgets it). ``fee_included`` procedures a year
  come with a fee-based plan, ``package_sessions`` with a package;
- ``cancel_fee`` / ``cancel_package``: the chance that a membership is cancelled during its term (at
  a moment uniform over the term): the refund is the ledger's rule — the pro-rata part of the price
  for the time left, minus the included procedures used at list price, within 0..price;
- ``renew_fee`` / ``renew_package``: the chance that a membership which ran its term is renewed (the
  same plan from its end); the others churn;
- ``balance_pay``: the chance that a patient with a stored-value balance pays a visit from it
  (bonus first, the lot expiring first, then the money paid in; the rest by the visit's method);
- ``cancel_stored_value``: the chance that a stored-value plan is cancelled during its term (the
  bonus's year, at a moment uniform over it; drawn from its own stream ``[seed, 29, 1]``): by the
  ledger's rule (``stored_value_cancel_terms``) the money part still on the balance is paid back (at
  most the price) and what the plan's bonus lot has left is forfeited; from the cancellation on, that
  lot pays nothing.

A cancellation's refund needs the uses before it, so a cancelled membership is emitted once every
visit before the cancellation was settled (the month after it, or at the end of the run). A stored-value
plan's sale is emitted when sold (its bonus lot pays the visits before the cancellation, which the
sale row carries); its cancellation is a second row (``settles``) emitted the same way, its refund
taken from the balance at the patient's first visit or top-up after the cancellation, else then."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from clinicflow.simulator.engine.batches import Booked
from clinicflow.simulator.engine.ids import uuid7_array
from clinicflow.simulator.engine.loyalty_wallets import BONUS_VALID_DAYS, Stored, Wallets
from clinicflow.simulator.engine.state import DAY_S, World
from clinicflow.simulator.scenario import MEMBERSHIP_KINDS
from clinicflow.simulator.scenario.model import ScenarioError
from clinicflow.simulator.scenario.reader import TableReader

FEE, STORED_VALUE, PACKAGE = (MEMBERSHIP_KINDS.index(k) for k in ("fee", "stored_value", "package"))
DEFAULTS: dict[str, float] = {
    "term_days": 365,
    "fee_included": 2,
    "use_fee": 0.7,
    "use_package": 0.9,
    "cancel_fee": 0.10,
    "cancel_package": 0.05,
    "renew_fee": 0.5,
    "renew_package": 0.3,
    "balance_pay": 0.9,
    "cancel_stored_value": 0.05,
}
TRACKED = (FEE, PACKAGE)  # the kinds with included procedures and churn


def usage_params(raw: Any) -> dict[str, float]:
    """The planted usage of ``[loyalty.usage]`` (every key optional; errors name the key)."""
    lo = raw.get("loyalty", {}) if isinstance(raw, dict) else {}
    t = TableReader(lo.get("usage", {}) if isinstance(lo, dict) else {}, "loyalty.usage")
    for k in t.data:
        if k not in DEFAULTS:
            raise ScenarioError(f"{t._key(k)}: unknown key (expected one of {', '.join(DEFAULTS)})")
    out = {k: t.rate(k, v) for k, v in DEFAULTS.items() if k not in ("term_days", "fee_included")}
    out["term_days"] = float(t.integer("term_days", 365, lo=30, hi=3650))
    out["fee_included"] = float(t.integer("fee_included", 2, lo=0, hi=50))
    return out


@dataclass
class Held:
    """A fee-based or package membership the engine follows."""

    id: np.ndarray
    patient: int
    branch: int
    kind: int
    svc: int
    price: int
    start: int
    end: int
    slots: int
    cancel_at: int = -1  # cancelled by now at this moment; -1: not (yet)
    renewed_from: np.ndarray | None = None
    used: int = 0
    used_value: int = 0

    @property
    def stop(self) -> int:
        return self.cancel_at if self.cancel_at >= 0 else self.end


@dataclass
class UsageTally:
    sold: np.ndarray = field(default_factory=lambda: np.zeros(len(MEMBERSHIP_KINDS), np.int64))
    renewals: np.ndarray = field(default_factory=lambda: np.zeros(len(MEMBERSHIP_KINDS), np.int64))
    ran_term: np.ndarray = field(default_factory=lambda: np.zeros(len(MEMBERSHIP_KINDS), np.int64))
    renewed: np.ndarray = field(default_factory=lambda: np.zeros(len(MEMBERSHIP_KINDS), np.int64))
    whole_term: np.ndarray = field(default_factory=lambda: np.zeros(len(MEMBERSHIP_KINDS), np.int64))
    cancelled_in_term: np.ndarray = field(default_factory=lambda: np.zeros(len(MEMBERSHIP_KINDS), np.int64))
    cancelled: np.ndarray = field(default_factory=lambda: np.zeros(len(MEMBERSHIP_KINDS), np.int64))
    eligible: np.ndarray = field(default_factory=lambda: np.zeros(len(MEMBERSHIP_KINDS), np.int64))
    used: np.ndarray = field(default_factory=lambda: np.zeros(len(MEMBERSHIP_KINDS), np.int64))
    allowed: np.ndarray = field(default_factory=lambda: np.zeros(len(MEMBERSHIP_KINDS), np.int64))
    refunds: int = 0
    wallet_visits: int = 0  # visits of a patient with a balance left (after the top-up)
    balance_paid: int = 0  # of them, paid from the balance
    bonus_spent: int = 0
    money_spent: int = 0
    included_value: int = 0  # list prices of the visits paid with an included procedure
    stored_exposure: float = 0.0  # stored-value plans: the sum of the share of the term each had by now
    stored_exposure_sq: float = 0.0  # the sum of its squares (for the standard error)
    stored_refunds: int = 0
    forfeited: int = 0  # bonus forfeited by cancelled stored-value plans


class Usage:
    def __init__(self, world: World) -> None:
        self.w = world
        self.p = usage_params(world.scn.raw)
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([world.seed, 29])))
        # ids of renewals: a child of the run's id stream (its state is not touched)
        child = world.id_rng.bit_generator.seed_seq.spawn(1)[0]  # type: ignore[attr-defined]
        self.id_rng = np.random.Generator(np.random.PCG64(child))
        self.held: dict[int, list[Held]] = {}
        self.pending: list[Held] = []  # cancelled by now, waiting for the visits before the cancellation
        self.t = UsageTally()
        self.wallets = Wallets(world, self.p, self.t, self.rng)
        self.holder = np.zeros(1024, dtype=bool)  # by patient: holds a membership or a wallet

    def _mark(self, p: int) -> None:
        if p >= self.holder.size:
            grown = np.zeros(max(2 * self.holder.size, p + 1), dtype=bool)
            grown[: self.holder.size] = self.holder
            self.holder = grown
        self.holder[p] = True

    # --- sales -----------------------------------------------------------------------------
    def sell(self, c: dict[str, np.ndarray]) -> None:
        """The memberships sold in a batch (the engine's ``memberships`` columns, without ``ends``):
        stored value opens a wallet; a fee-based or package plan is followed through its term,
        cancellation and renewals. Emits what is settled now."""
        out: list[Held] = []
        sv: list[int] = []
        sv_cancel: list[int] = []
        for i in range(c["id"].shape[0]):
            kind, p, at = int(c["kind"][i]), int(c["patient"][i]), int(c["started"][i])
            self.t.sold[kind] += 1
            self._mark(p)
            if kind == STORED_VALUE:
                sv.append(i)
                sv_cancel.append(self.wallets.top_up(c, i))
                continue
            h = Held(
                id=c["id"][i], patient=p, branch=int(c["branch"][i]), kind=kind, svc=int(c["service"][i]),
                price=int(c["price"][i]), start=at, end=at + int(self.p["term_days"]) * DAY_S,
                slots=self._slots(kind),
            )  # fmt: skip
            out += self._follow(h)
        stored = None
        if sv:
            stored = {k: v[sv] for k, v in c.items()}
            stored["cancel_at"] = np.array(sv_cancel, dtype=np.int64)
        self._emit(out, stored)

    def _slots(self, kind: int) -> int:
        key = "fee_included" if kind == FEE else "package_sessions"
        return int(self.p[key]) if kind == FEE else int(self.w.scn.loyalty[key])

    def _follow(self, h: Held) -> list[Held]:
        """The membership and its renewals up to now; a cancelled one waits (``pending``)."""
        now, name = self.w.now, MEMBERSHIP_KINDS[h.kind]
        settled: list[Held] = []
        while True:
            self.held.setdefault(h.patient, []).append(h)
            self.t.allowed[h.kind] += h.slots
            u_cancel, u_when, u_renew = self.rng.random(3)
            cancel_at = h.start + 1 + int(u_when * (h.end - h.start - 1))
            cancels = u_cancel < self.p[f"cancel_{name}"]
            if h.end <= now:
                self.t.whole_term[h.kind] += 1
                self.t.cancelled_in_term[h.kind] += int(cancels)
            if cancels and cancel_at <= now:
                h.cancel_at = cancel_at
                self.t.cancelled[h.kind] += 1
                self.pending.append(h)
                return settled
            settled.append(h)
            if cancels or h.end > now:
                return settled
            self.t.ran_term[h.kind] += 1
            if u_renew >= self.p[f"renew_{name}"]:
                return settled
            self.t.renewed[h.kind] += 1
            self.t.renewals[h.kind] += 1
            h = Held(
                id=uuid7_array(self.id_rng, np.array([h.end * 1000], dtype=np.int64))[0], patient=h.patient,
                branch=h.branch, kind=h.kind, svc=h.svc, price=h.price, start=h.end,
                end=h.end + (h.end - h.start), slots=self._slots(h.kind), renewed_from=h.id,
            )  # fmt: skip

    def _emit(
        self, held: list[Held], stored: dict[str, np.ndarray] | None, settled: Sequence[Stored] = ()
    ) -> None:
        cols: dict[str, list[Any]] = {k: [] for k in COLUMNS}
        for h in held:
            refund = self._refund(h) if h.cancel_at >= 0 else 0
            self.t.refunds += refund
            slots = self._slots(h.kind)
            row = (
                h.id, h.patient, h.branch, h.kind, h.price, 0, slots if h.kind == PACKAGE else 0,
                h.svc, h.start, h.end, h.cancel_at, refund,
                h.renewed_from if h.renewed_from is not None else np.zeros(16, np.uint8),
                h.renewed_from is not None, slots, 0, False,
            )  # fmt: skip
            for k, v in zip(COLUMNS, row, strict=True):
                cols[k].append(v)
        if stored is not None:
            n = stored["id"].shape[0]
            extra = {
                "ends": stored["started"] + BONUS_VALID_DAYS * DAY_S,
                "refund": np.zeros(n, np.int64), "renewed_from": np.zeros((n, 16), np.uint8),
                "renewal": np.zeros(n, bool), "included": np.zeros(n, np.int64),
                "forfeit": np.zeros(n, np.int64), "settles": np.zeros(n, bool),
            }  # fmt: skip
            for k in COLUMNS:
                v = stored[k] if k in stored else extra[k]
                cols[k] += list(v)
        for settles in self.wallets.settle(settled):
            for k in COLUMNS:
                cols[k].append(settles[k])
        if not cols["id"]:
            return
        self.w.emit("memberships", {k: _array(k, v) for k, v in cols.items()})

    def _refund(self, h: Held) -> int:
        """The ledger's rule: pro-rata of the price for the time left − used at list price, in 0..price
        (half-even to the minor unit)."""
        pro_rata = round(Fraction(h.price * (h.end - h.cancel_at), h.end - h.start))
        return min(max(pro_rata - h.used_value, 0), h.price)

    # --- checkout ----------------------------------------------------------------------------
    def checkout(self, bk: Booked, di: np.ndarray, paid_at: np.ndarray) -> np.ndarray:
        """How each paid visit (``di`` with a price, as the ``payments`` rows) was paid: an included
        procedure, the balance (bonus, money) or only outside money. Emits ``tenders`` (one row per
        payment row) and returns the price not recognised as revenue (included, bonus) per ``di``."""
        w = self.w
        self._settle_pending(bk)
        pay = bk.price[di] > 0
        rows, at = di[pay], paid_at[pay]
        n = rows.size
        included = np.full(n, -1, dtype=np.int64)
        membership = np.zeros((n, 16), dtype=np.uint8)
        bonus = np.zeros(n, dtype=np.int64)
        money = np.zeros(n, dtype=np.int64)
        pidx = bk.pidx[rows]
        known = pidx < self.holder.size
        for j in np.flatnonzero(known)[self.holder[pidx[known]]].tolist():  # the few holders' visits
            p = int(pidx[j])
            i, t, price = int(rows[j]), int(at[j]), int(bk.price[rows[j]])
            h = self._cover(p, int(bk.svc[i]), t)
            if h is not None:
                self.t.eligible[h.kind] += 1
                if self.rng.random() < self.p[f"use_{MEMBERSHIP_KINDS[h.kind]}"]:
                    h.slots, h.used, h.used_value = h.slots - 1, h.used + 1, h.used_value + price
                    self.t.used[h.kind] += 1
                    self.t.included_value += price
                    included[j], membership[j] = h.kind, h.id
                    continue
            bonus[j], money[j] = self.wallets.spend(p, t, price)
        w.emit("tenders", {"included": included, "membership": membership, "bonus": bonus, "money": money,
                           "service": bk.svc[rows].astype(np.int16)})  # fmt: skip
        lost = np.where(included >= 0, bk.price[rows], bonus)
        out = np.zeros(di.size, dtype=np.int64)
        out[np.flatnonzero(pay)] = lost
        self._revenue(bk, di, out)
        return out

    def _cover(self, p: int, svc: int, t: int) -> Held | None:
        for h in self.held.get(p, ()):
            if h.svc == svc and h.start < t < h.stop and h.slots > 0:
                return h
        return None

    def _revenue(self, bk: Booked, di: np.ndarray, lost: np.ndarray) -> None:
        """Revenue is what was received (``booking.Payment``): an included procedure (the fee is
        revenue) and a bonus are not; the tallies follow."""
        k = np.flatnonzero(lost)
        if not k.size:
            return
        w = self.w
        t, pat = w.tally, w.pat
        i, amount = di[k], lost[k]
        np.subtract.at(t.revenue_branch, bk.branch[i], amount)
        np.subtract.at(pat["revenue"], bk.pidx[i], amount)
        first = bk.is_first[i]
        same_day = ~first & (bk.day[i] == pat["first_done"][bk.pidx[i]])
        t.first_visit_revenue -= int(amount[first].sum())
        t.first_day_revenue -= int(amount[first | same_day].sum())
        t.repeat_revenue -= int(amount[~first].sum())

    # --- cancellations ----------------------------------------------------------------------
    def _settle_pending(self, bk: Booked) -> None:
        """Emit the cancelled memberships whose every earlier visit is settled: those cancelled
        before the month of this batch (a day's margin for the branches' time zones)."""
        if not self.pending or bk.n == 0:
            return
        cal = self.w.cal
        month = int(cal.month_of_day[int(bk.day.min())])
        safe = int(cal.day_epoch[int(cal.month_start[month])]) * DAY_S - DAY_S
        self._flush(safe)

    def _flush(self, before: int) -> None:
        due = [h for h in self.pending if h.cancel_at < before]
        stored = self.wallets.due(before)
        if due or stored:
            self.pending = [h for h in self.pending if h.cancel_at >= before]
            self._emit(due, None, stored)

    def finish(self) -> None:
        """The end of the run: the cancellations still waiting."""
        self._flush(self.w.now + 1)


COLUMNS = (
    "id", "patient", "branch", "kind", "price", "bonus", "sessions", "service", "started", "ends",
    "cancel_at", "refund", "renewed_from", "renewal", "included", "forfeit", "settles",
)  # fmt: skip
_DTYPES = {
    "patient": np.int64, "branch": np.int16, "kind": np.int8, "price": np.int64, "bonus": np.int64,
    "sessions": np.int16, "service": np.int16, "started": np.int64, "ends": np.int64, "cancel_at": np.int64,
    "refund": np.int64, "renewal": np.bool_, "included": np.int64, "forfeit": np.int64, "settles": np.bool_,
}  # fmt: skip


def _array(name: str, values: list[Any]) -> np.ndarray:
    if name in ("id", "renewed_from"):
        return np.stack(values).astype(np.uint8)
    return np.array(values, dtype=_DTYPES[name])
