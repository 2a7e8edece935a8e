"""Memberships sold, renewed and cancelled, through the ledger's models (issue #16), bulk-written.

- the **plans**: one stored-value plan (pay the amount, get the bonus on top, lasting a year), and per
  procedure a fee-based plan (a yearly fee, ``fee_included`` of the procedure included) and a prepaid
  package (``package_sessions`` of it) — each written with its first sale;
- a **sale** (or a renewal, ``renewed_from`` the membership it continues, sold at its end): a fee-based
  plan or package puts its price from the clinic's ``cash`` into the patient's ``prepaid`` account
  (one lot, the membership's ``lot``); a stored-value plan is a top-up (``cash`` → ``money``) with
  its bonus (``bonus_issued`` → ``bonus``, a lot expiring after a year). The price is also a
  ``booking.Payment`` (no appointment), as money received;
- a **cancellation** (``membership_cancel``'s postings): the lot's whole price leaves ``prepaid`` —
  the refund (the engine's, by the ledger's rule) back to ``cash`` (and a ``booking.Payment`` of kind
  refund), the rest earned (``revenue``); the membership is written ``cancelled`` with its refund;
- a stored-value plan's **cancellation** comes as a second row (``settles``) after its sale, which
  carried its moment (``cancel_at``: the bonus lot pays no visit from then on, and the membership row
  waits for the cancellation): the refund (``money`` → ``cash``, a ``refund`` transaction, and a
  ``booking.Payment`` of kind refund), what the plan's bonus lot has left forfeited (``bonus`` →
  ``expired``, an ``expire`` transaction referencing the membership), as ``membership_cancel`` posts.

The fees of the memberships still open are earned up to "now" after the load
(``ledger_finish.finish_ledger``)."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

from clinicflow.booking.models import Payment, PaymentKind, PaymentMethod
from clinicflow.ledger.models import AccountKind, Membership, MembershipPlan, TxKind
from clinicflow.simulator.engine.ids import uuid7_array
from clinicflow.simulator.engine.loyalty_use import FEE, PACKAGE, STORED_VALUE, usage_params
from clinicflow.simulator.engine.loyalty_wallets import BONUS_VALID_DAYS
from clinicflow.simulator.engine.state import DAY_S
from clinicflow.simulator.scenario import MEMBERSHIP_KINDS
from clinicflow.simulator.writers.base import Columns, SinkBase
from clinicflow.simulator.writers.ledger import PLAN_KIND, _Batch


def _plans(out: SinkBase, b: _Batch, c: Columns) -> None:
    """Write the plans this chunk sells for the first time: key (kind, service)."""
    st, ctx, sim = b.st, out.ctx, out.sim
    term = int(usage_params(sim.scn.raw)["term_days"])
    rows: dict[str, list[Any]] = {
        k: [] for k in ("key", "kind", "code", "name", "price", "credit", "included", "days")
    }
    for i in range(c["id"].shape[0]):
        kind, svc = int(c["kind"][i]), int(c["service"][i])
        key = (kind, svc if kind in (FEE, PACKAGE) else -1)
        if key in st.plans or key in rows["key"]:
            continue
        name = MEMBERSHIP_KINDS[kind]
        code, label = sim.st.svc_code[svc] if svc >= 0 else "", sim.scn.services[svc].name if svc >= 0 else ""
        n = int(c["included"][i])
        rows["key"].append(key)
        rows["kind"].append(PLAN_KIND[name].value)
        rows["code"].append(f"sim-{name.replace('_', '-')}" + (f"-{code}" if code else ""))
        rows["name"].append(
            {"fee": f"Membership (fee): {n} × {label}", "package": f"Prepaid package: {n} × {label}"}.get(
                name, "Stored value with a bonus"
            )[:200]
        )
        rows["price"].append(int(c["price"][i]))
        rows["credit"].append(int(c["price"][i]) + int(c["bonus"][i]) if name == "stored_value" else -1)
        rows["included"].append({code: n} if code and n > 0 else {})
        rows["days"].append(BONUS_VALID_DAYS if kind not in (FEE, PACKAGE) else term)
    if not rows["key"]:
        return
    ids = uuid7_array(sim.id_rng, np.full(len(rows["key"]), ctx.now * 1000, dtype=np.int64))
    st.plans.update(zip(rows["key"], ids, strict=True))
    out.put(MembershipPlan, {
        "id": ids, "kind": rows["kind"], "code": rows["code"], "name": rows["name"], "currency": ctx.currency,
        "price": np.array(rows["price"], dtype=np.int64),
        "period": [
            "year" if k[0] == FEE and d == 365 else "" for k, d in zip(rows["key"], rows["days"], strict=True)
        ],
        "duration_days": np.array(rows["days"], dtype=np.int64), "category_discounts": {},
        "included": rows["included"], "priority_booking": False, "shareable": False, "freezable_days": 30,
        "is_active": True,
        "credit": np.maximum(np.array(rows["credit"], dtype=np.int64), 0),
        "credit__null": np.array(rows["credit"]) < 0, "bonus_valid_days": BONUS_VALID_DAYS,
        "available_until": None,
    })  # fmt: skip


def _cancel(b: _Batch, c: Columns, i: int, lot: Any, cur: str) -> None:
    """The cancellation's postings: the lot leaves ``prepaid``, the refund to ``cash``, the rest earned."""
    p, at, price, refund = (
        int(c["patient"][i]),
        int(c["cancel_at"][i]),
        int(c["price"][i]),
        int(c["refund"][i]),
    )
    legs: list[tuple[Any, str, int, Any]] = [(b.account(p, AccountKind.PREPAID, cur), cur, -price, lot)]
    if refund > 0:
        legs.append((b.clinic(AccountKind.CASH, cur), cur, refund, None))
    if price - refund > 0:
        legs.append((b.clinic(AccountKind.REVENUE, cur), cur, price - refund, None))
    b.post(TxKind.MEMBERSHIP_CANCEL, p, at, legs, ref=str(uuid.UUID(bytes=c["id"][i].tobytes())))


def _stored_value_sale(b: _Batch, c: Columns, i: int, cur: str) -> Any:
    """The top-up with the plan's bonus lot (usable until its expiry, or the plan's cancellation);
    the sale of a plan cancelled later is remembered for its cancellation's row."""
    p, at, price, bonus = (int(c[k][i]) for k in ("patient", "started", "price", "bonus"))
    legs = [
        (b.clinic(AccountKind.CASH, cur), cur, -price, None),
        (b.account(p, AccountKind.MONEY, cur), cur, price, None),
    ]
    expires = at + BONUS_VALID_DAYS * DAY_S
    if bonus > 0:
        legs += [
            (b.clinic(AccountKind.BONUS_ISSUED, cur), cur, -bonus, None),
            (b.account(p, AccountKind.BONUS, cur), cur, bonus, None),
        ]
    txn, ids = b.post(TxKind.TOP_UP, p, at, legs, ref="sim-stored-value", expires={3: expires})
    cancel_at = int(c["cancel_at"][i])
    lot = None
    if bonus > 0:
        lot = [ids[3], bonus, expires, cancel_at if cancel_at >= 0 else expires]
        b.st.bonus.setdefault(p, []).append(lot)
    if cancel_at >= 0:
        b.st.stored[c["id"][i].tobytes()] = (txn, lot)
    return txn


def _stored_value_cancel(b: _Batch, c: Columns, i: int, cur: str) -> Any:
    """The cancellation's refund and forfeit (``membership_cancel``'s postings); returns the sale."""
    p, at, refund, forfeit = (int(c[k][i]) for k in ("patient", "cancel_at", "refund", "forfeit"))
    sale, lot = b.st.stored.pop(c["id"][i].tobytes())
    if refund > 0:
        legs = [
            (b.account(p, AccountKind.MONEY, cur), cur, -refund, None),
            (b.clinic(AccountKind.CASH, cur), cur, refund, None),
        ]
        b.post(TxKind.REFUND, p, at, legs)
    left = 0 if lot is None else lot[1]
    assert left == forfeit, (p, left, forfeit)
    if lot is not None and forfeit > 0:
        legs = [
            (b.account(p, AccountKind.BONUS, cur), cur, -forfeit, lot[0]),
            (b.clinic(AccountKind.EXPIRED, cur), cur, forfeit, None),
        ]
        memo = "forfeited: stored-value plan cancelled"
        b.post(TxKind.EXPIRE, p, at, legs, ref=str(uuid.UUID(bytes=c["id"][i].tobytes())), memo=memo)
        lot[1] = 0
    return sale


def write_memberships(out: SinkBase, c: Columns) -> None:
    b, cur = _Batch(out), out.ctx.currency
    _plans(out, b, c)
    lots: list[Any] = []
    sales: list[Any] = []
    for i in range(c["id"].shape[0]):
        p, kind, at = int(c["patient"][i]), MEMBERSHIP_KINDS[int(c["kind"][i])], int(c["started"][i])
        price = int(c["price"][i])
        cash = b.clinic(AccountKind.CASH, cur)
        if kind == "stored_value":
            settles = bool(c["settles"][i])
            sales.append(_stored_value_cancel(b, c, i, cur) if settles else _stored_value_sale(b, c, i, cur))
            lots.append(None)
            continue
        legs = [(cash, cur, -price, None), (b.account(p, AccountKind.PREPAID, cur), cur, price, None)]
        txn, ids = b.post(TxKind.MEMBERSHIP_SALE, p, at, legs, ref=f"sim-{kind}")
        lots.append(ids[1])
        if int(c["cancel_at"][i]) >= 0:
            _cancel(b, c, i, ids[1], cur)
        sales.append(txn)
    b.flush()
    _payments(out, c)
    # the membership of a stored-value plan cancelled later is written with its cancellation
    waits = (c["kind"] == STORED_VALUE) & (c["cancel_at"] >= 0) & ~c["settles"]
    if waits.any():
        keep = np.flatnonzero(~waits)
        c = {k: v[keep] for k, v in c.items()}
        lots, sales = [lots[j] for j in keep], [sales[j] for j in keep]
    if not lots:
        return
    cancelled = c["cancel_at"] >= 0
    svc = np.where(np.isin(c["kind"], (FEE, PACKAGE)), c["service"], -1)
    out.put(Membership, {
        "id": c["id"], "patient": out.pid(c["patient"]),
        "plan": np.stack([b.st.plans[(int(k), int(s))] for k, s in zip(c["kind"], svc, strict=True)]),
        "status": np.where(cancelled, "cancelled", "active").tolist(), "currency": cur,
        "price": c["price"], "starts_at": c["started"], "ends_at": c["ends"], "frozen_from": None,
        "frozen_until": None, "frozen_days": 0, "cancelled_at": np.maximum(c["cancel_at"], 0),
        "cancelled_at__null": ~cancelled, "refund": c["refund"], "refund__null": ~cancelled,
        "sale": np.stack(sales),
        "lot": np.stack([np.zeros(16, np.uint8) if x is None else x for x in lots]),
        "lot__null": np.array([x is None for x in lots]), "renewed_from": c["renewed_from"],
        "renewed_from__null": ~c["renewal"], "created_by": None, "created_at": c["started"],
    })  # fmt: skip


def _payments(out: SinkBase, c: Columns) -> None:
    """The money received for the sales, and paid back by the cancellations."""
    cur, pay = out.ctx.currency, (c["price"] > 0) & ~c["settles"]
    back = (c["cancel_at"] >= 0) & (c["refund"] > 0)
    at = np.concatenate([c["started"][pay], c["cancel_at"][back]])
    rows = np.concatenate([np.flatnonzero(pay), np.flatnonzero(back)])
    kind = [PaymentKind.PAYMENT.value] * int(pay.sum()) + [PaymentKind.REFUND.value] * int(back.sum())
    out.put(Payment, {
        "id": uuid7_array(out.sim.id_rng, at * 1000), "appointment": None,
        "patient": out.pid(c["patient"][rows]), "branch": out.ctx.branch[c["branch"][rows]],
        "amount": np.concatenate([c["price"][pay], c["refund"][back]]), "currency": cur,
        "method": PaymentMethod.CARD.value, "kind": kind, "paid_at": at, "recorded_by": None,
        "note": ["membership"] * int(pay.sum()) + ["membership refund"] * int(back.sum()), "created_at": at,
    })  # fmt: skip
