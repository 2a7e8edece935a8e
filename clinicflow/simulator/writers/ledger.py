"""Loyalty written through the ledger's models (issue #16): points earned and redeemed, friends
referred — as balanced journal transactions, bulk-written like every other table — and the journal
batch (``_Batch``) the other ledger writers share: memberships sold, renewed and cancelled
(:mod:`.memberships`), visits paid with an included procedure or from the balance (:mod:`.checkout`).

- **points** earned on a paid visit (``points_issued`` → the patient's ``points``, a lot without
  expiry) and redeemed at a later visit (the patient's lots, oldest first → ``points_redeemed``: the
  money off is in the visit's price);
- a **referral**: the referrer's code; a friend who became a patient is a ``Referral`` rewarded once
  with 500 points for each side (one ``referral_reward`` transaction).

The writer keeps, per patient account, the balance and the posting number, so each posting carries
its ``balance_after`` and ``seq`` as the services write them; ``ledger_finish.finish_ledger`` (after
the load) sets the accounts' cached balances from the postings and earns the membership fees due by
the simulated "now" (the postings ``memberships_earn_due`` would write, in bulk). ``clinicflow ledger
verify`` is clean on the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from clinicflow.ledger.models import (
    POINTS,
    Account,
    AccountKind,
    PlanKind,
    PointsProgram,
    Posting,
    Referral,
    ReferralCode,
    ReferralProgram,
    ReferralStatus,
    Transaction,
    TxKind,
)
from clinicflow.simulator.engine.ids import IdStream, uuid7_array
from clinicflow.simulator.writers.base import Columns, SinkBase

REWARD = 500  # points for each side of a referral
PLAN_KIND = {"fee": PlanKind.FEE, "stored_value": PlanKind.STORED_VALUE, "package": PlanKind.PACKAGE}
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass
class _State:
    """What the writer remembers across chunks: accounts (id, balance in hundredths, last number),
    the clinic's accounts, open points lots per patient, plans, referral codes."""

    accounts: dict[tuple[int, str, str], list[Any]] = field(default_factory=dict)
    clinic: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    lots: dict[int, list[list[Any]]] = field(default_factory=dict)
    # [lot, left, expires at, usable until] per patient (until: the expiry, or the plan's cancellation)
    bonus: dict[int, list[list[Any]]] = field(default_factory=dict)
    # stored-value plans cancelled later: membership id -> (the sale, its bonus lot)
    stored: dict[bytes, tuple[Any, list[Any] | None]] = field(default_factory=dict)
    plans: dict[Any, np.ndarray] = field(default_factory=dict)
    codes: dict[int, str] = field(default_factory=dict)
    referred: set[int] = field(default_factory=set)


class _Batch:
    """Transactions and postings of one chunk, written together."""

    def __init__(self, out: SinkBase) -> None:
        self.out = out
        self.st: _State = _state(out)
        self.tx: dict[str, list[Any]] = {
            k: [] for k in ("id", "kind", "patient", "reference", "created_at", "memo")
        }
        self.p: dict[str, list[Any]] = {
            k: []
            for k in (
                "id",
                "transaction",
                "account",
                "unit",
                "amount",
                "balance_after",
                "seq",
                "lot",
                "created_at",
                "expires_at",
            )
        }
        self.new_accounts: list[tuple[np.ndarray, int, str, str]] = []
        # the ids of a writer that draws nothing else from the id stream meanwhile (``IdStream``)
        self.stream: IdStream | None = None

    def ids(self, at: int, n: int) -> np.ndarray:
        if self.stream is not None:
            return self.stream.take(at * 1000, n)
        return uuid7_array(self.out.sim.id_rng, np.full(n, at * 1000, dtype=np.int64))

    def clinic(self, kind: str, unit: str) -> np.ndarray:
        key = (kind, unit)
        if key not in self.st.clinic:
            self.st.clinic[key] = self.ids(self.out.ctx.now, 1)[0]
            self.new_accounts.append((self.st.clinic[key], -1, kind, unit))
        return self.st.clinic[key]

    def account(self, patient: int, kind: str, unit: str) -> list[Any]:
        key = (patient, kind, unit)
        if key not in self.st.accounts:
            self.st.accounts[key] = [self.ids(self.out.ctx.now, 1)[0], 0, 0]
            self.new_accounts.append((self.st.accounts[key][0], patient, kind, unit))
        return self.st.accounts[key]

    def post(
        self,
        kind: str,
        patient: int,
        at: int,
        legs: list[tuple[Any, str, int, Any]],
        ref: str = "",
        *,
        memo: str = "",
        expires: dict[int, int] | None = None,
    ) -> Any:
        """One transaction; legs: (patient account state or clinic id, unit, hundredths, lot);
        ``expires``: {leg number: the lot's expiry} of the lots it opens."""
        assert sum(a for _, _, a, _ in legs) == 0
        txn = self.ids(at, 1)[0]
        for k, v in zip(self.tx, (txn, kind, patient, ref, at, memo), strict=True):
            self.tx[k].append(v)
        expires = expires or {}
        ids = self.ids(at, len(legs))
        for i, (acc, unit, amount, lot) in enumerate(legs):
            if isinstance(acc, list):
                acc[1] += amount
                acc[2] += 1
                assert acc[1] >= 0
                after, seq, target = acc[1], acc[2], acc[0]
            else:
                after, seq, target = None, None, acc
            row = (ids[i], txn, target, unit, amount, after, seq, lot, at, expires.get(i))
            for k, v in zip(self.p, row, strict=True):
                self.p[k].append(v)
        return txn, ids

    def flush(self) -> None:
        out = self.out
        if self.new_accounts:
            patient = np.array([p for _, p, _, _ in self.new_accounts])
            out.put(Account, {
                "id": np.stack([a for a, _, _, _ in self.new_accounts]), "patient": out.pid(patient),
                "patient__null": patient < 0, "kind": [k for _, _, k, _ in self.new_accounts],
                "unit": [u for _, _, _, u in self.new_accounts],
                "balance": np.zeros(patient.size, dtype=np.int64),
                "last_seq": np.zeros(patient.size, dtype=np.int64),
                "created_at": np.full(patient.size, out.ctx.now, dtype=np.int64),
            })  # fmt: skip
        if not self.tx["id"]:
            return
        pat = np.array(self.tx["patient"])
        out.put(Transaction, {
            "id": np.stack(self.tx["id"]), "kind": self.tx["kind"], "patient": out.pid(pat),
            "patient__null": pat < 0, "reference": self.tx["reference"], "memo": self.tx["memo"],
            "created_at": np.array(self.tx["created_at"], dtype=np.int64), "created_by": None,
        })  # fmt: skip
        after = [0 if a is None else a for a in self.p["balance_after"]]
        seq = [0 if s is None else s for s in self.p["seq"]]
        lot = [np.zeros(16, np.uint8) if x is None else x for x in self.p["lot"]]
        out.put(Posting, {
            "id": np.stack(self.p["id"]), "transaction": np.stack(self.p["transaction"]),
            "account": np.stack(self.p["account"]), "unit": self.p["unit"],
            "amount": np.array(self.p["amount"], dtype=np.int64),
            "balance_after": np.array(after, dtype=np.int64),
            "balance_after__null": np.array([a is None for a in self.p["balance_after"]]),
            "seq": np.array(seq, dtype=np.int64), "seq__null": np.array([s is None for s in self.p["seq"]]),
            "lot": np.stack(lot), "lot__null": np.array([x is None for x in self.p["lot"]]),
            "expires_at": np.array([0 if x is None else x for x in self.p["expires_at"]], dtype=np.int64),
            "expires_at__null": np.array([x is None for x in self.p["expires_at"]]),
            "created_at": np.array(self.p["created_at"], dtype=np.int64),
        })  # fmt: skip


def _state(out: SinkBase) -> _State:
    if "ledger" not in out.cache:
        out.cache["ledger"] = _State()
        _programmes(out)
    st: _State = out.cache["ledger"]
    return st


def _programmes(out: SinkBase) -> None:
    """The clinic's points and referral programmes (written once a run; the membership plans are
    written with the first membership of each, :mod:`.memberships`)."""
    ctx, lo = out.ctx, out.sim.scn.loyalty
    out.put(PointsProgram, {
        "id": uuid7_array(out.sim.id_rng, np.array([ctx.now * 1000])), "currency": ctx.currency,
        "default_rate": str(Decimal(str(lo["points_per_100"])) / 100), "category_rates": {},
        "point_value": 1, "valid_days": None, "is_active": True,
    })  # fmt: skip
    out.put(ReferralProgram, {
        "id": uuid7_array(out.sim.id_rng, np.array([ctx.now * 1000])), "currency": ctx.currency,
        "reward_kind": "points", "referrer_reward": REWARD, "friend_reward": REWARD, "is_active": True,
    })  # fmt: skip


def write_points(out: SinkBase, c: Columns) -> None:
    """Earned first, then redeemed (the engine counted a batch's earnings before its redemptions)."""
    b = _Batch(out)
    b.stream = IdStream(out.sim.id_rng, expected=4 * len(c["at"]))
    order = np.lexsort((c["at"], c["points"] < 0))
    for i in order:
        p, pts, at = int(c["patient"][i]), int(c["points"][i]), int(c["at"][i])
        held = b.account(p, AccountKind.POINTS, POINTS)
        if pts > 0:
            _, ids = b.post(
                TxKind.EARN,
                p,
                at,
                [
                    (b.clinic(AccountKind.POINTS_ISSUED, POINTS), POINTS, -pts * 100, None),
                    (held, POINTS, pts * 100, None),
                ],
            )
            b.st.lots.setdefault(p, []).append([ids[1], pts * 100])
        else:
            legs: list[tuple[Any, str, int, Any]] = []
            want = -pts * 100
            for lot in b.st.lots.get(p, []):
                take = min(lot[1], want)
                if take > 0:
                    legs.append((held, POINTS, -take, lot[0]))
                    lot[1] -= take
                    want -= take
            b.st.lots[p] = [lot for lot in b.st.lots.get(p, []) if lot[1] > 0]
            taken = -sum(a for _, _, a, _ in legs)
            if taken:
                legs.append((b.clinic(AccountKind.POINTS_REDEEMED, POINTS), POINTS, taken, None))
                b.post(TxKind.REDEEM, p, at, legs)
    b.stream.close()
    b.flush()


def _code(out: SinkBase) -> str:
    raw = out.sim.id_rng.integers(0, len(CODE_ALPHABET), 8)
    return "".join(CODE_ALPHABET[int(x)] for x in raw)


def write_referrals(out: SinkBase, c: Columns) -> None:
    """Codes of the referrers; a friend who became a patient is referred once, both rewarded."""
    b = _Batch(out)
    new_codes: list[tuple[int, str, int]] = []
    rows: dict[str, list[Any]] = {k: [] for k in ("id", "referrer", "referred", "code", "reward", "at")}
    for i in range(c["id"].shape[0]):
        r, f, at = int(c["referrer"][i]), int(c["referred"][i]), int(c["at"][i])
        if r not in b.st.codes:
            b.st.codes[r] = _code(out)
            new_codes.append((r, b.st.codes[r], at))
        if f < 0 or f == r or f in b.st.referred:
            continue
        b.st.referred.add(f)
        issued = b.clinic(AccountKind.POINTS_ISSUED, POINTS)
        mine, theirs = b.account(r, AccountKind.POINTS, POINTS), b.account(f, AccountKind.POINTS, POINTS)
        txn, ids = b.post(
            TxKind.REFERRAL_REWARD,
            f,
            at,
            [
                (issued, POINTS, -2 * REWARD * 100, None),
                (mine, POINTS, REWARD * 100, None),
                (theirs, POINTS, REWARD * 100, None),
            ],
        )
        b.st.lots.setdefault(r, []).append([ids[1], REWARD * 100])
        b.st.lots.setdefault(f, []).append([ids[2], REWARD * 100])
        for k, v in zip(rows, (c["id"][i], r, f, b.st.codes[r], txn, at), strict=True):
            rows[k].append(v)
    b.flush()
    if new_codes:
        out.put(ReferralCode, {
            "id": uuid7_array(
            out.sim.id_rng, np.array([a for _, _, a in new_codes], dtype=np.int64) * 1000
            ),
            "patient": out.pid(np.array([p for p, _, _ in new_codes])), "code": [s for _, s, _ in new_codes],
            "created_at": np.array([a for _, _, a in new_codes], dtype=np.int64),
        })  # fmt: skip
    if rows["id"]:
        when = np.array(rows["at"], dtype=np.int64)
        out.put(Referral, {
            "id": np.stack(rows["id"]), "referrer": out.pid(np.array(rows["referrer"])),
            "referred": out.pid(np.array(rows["referred"])), "code": rows["code"],
            "status": ReferralStatus.REWARDED.value, "reason": "", "reward": np.stack(rows["reward"]),
            "reference": "", "created_at": when, "rewarded_at": when,
        })  # fmt: skip
