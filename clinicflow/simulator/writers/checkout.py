"""Checkout of the paid visits (issue #16): the engine's ``payments`` (what each done visit cost, and
the method drawn) are held until its ``tenders`` say how each was paid, then written together:

- paid by outside money only (most visits): the ``booking.Payment``, the invoice and its ``cash`` →
  ``revenue`` tender in bulk (:mod:`.invoices`); the scenario's ``stored_value`` method, drawn for a
  patient who does not pay from a balance, is a card payment;
- paid with a membership's **included procedure**: the invoice, a ``MembershipUse`` (at list price) and
  an ``included`` tender — no journal transaction and no revenue (the fee is earned over the term);
- paid from the **balance**: one ``spend`` transaction (the bonus lots, expiring first, then the money
  → ``revenue``), a ``balance`` tender whose money part is revenue (a ``booking.Payment``, method
  ``membership``); what the balance did not cover is paid by the visit's method (a second tender).

As ``invoice_pay`` writes them (``docs/ledger.md``, *Checkout*)."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

from clinicflow.booking.models import Payment, PaymentKind, PaymentMethod
from clinicflow.ledger.models import (
    AccountKind,
    BenefitKind,
    Invoice,
    InvoiceLine,
    InvoiceSource,
    InvoiceStatus,
    InvoiceTender,
    MembershipUse,
    TenderKind,
    TenderMethod,
    TxKind,
)
from clinicflow.simulator.engine.ids import hex_ids, uuid7_array
from clinicflow.simulator.scenario import CATEGORIES, PAYMENT_METHODS
from clinicflow.simulator.writers import booking, invoices
from clinicflow.simulator.writers.base import Columns, SinkBase
from clinicflow.simulator.writers.booking import PAY_METHOD
from clinicflow.simulator.writers.ledger import _Batch

STORED, CARD = PAYMENT_METHODS.index("stored_value"), PAYMENT_METHODS.index("card")
HELD = "checkout.payments"


def hold_payments(out: SinkBase, c: Columns) -> None:
    """The visits' payments wait for their tenders (the engine emits them next)."""
    assert HELD not in out.cache, "payments without their tenders"
    out.cache[HELD] = c


def pending(out: SinkBase) -> bool:
    return HELD in out.cache


def write_paid_visits(out: SinkBase, t: Columns) -> None:
    """The held payments with their tenders: plain ones in bulk, the others row by row."""
    c = out.cache.pop(HELD)
    n = len(c["id"])
    assert len(t["bonus"]) == n
    special = (t["included"] >= 0) | (t["bonus"] + t["money"] > 0)
    plain = {k: np.asarray(v)[~special] for k, v in c.items()}
    plain["method"] = np.where(plain["method"] == STORED, CARD, plain["method"]).astype(np.int8)
    plain["service"] = t["service"][~special].astype(np.int64)
    booking.write_payments(out, plain)
    invoices.write_invoices(out, plain)
    if special.any():
        rows = np.flatnonzero(special)
        _special(out, {k: np.asarray(v)[rows] for k, v in c.items()}, {k: v[rows] for k, v in t.items()})


class _Rows:
    def __init__(self, *names: str) -> None:
        self.cols: dict[str, list[Any]] = {k: [] for k in names}

    def add(self, **values: Any) -> None:
        for k, v in values.items():
            self.cols[k].append(v)


def _special(out: SinkBase, c: Columns, t: Columns) -> None:
    ctx, rng = out.ctx, out.sim.id_rng
    cur, b = ctx.currency, _Batch(out)
    n = len(c["id"])
    ms = c["paid_at"].astype(np.int64) * 1000
    invoice, line = uuid7_array(rng, ms), uuid7_array(rng, ms)
    numbers = ["S-" + h[-12:].upper() for h in hex_ids(invoice)]
    pays = _Rows("id", "row", "amount", "method", "note")
    tenders = _Rows("row", "method", "amount", "revenue", "line", "txn", "payment", "reference")
    uses = _Rows("id", "row", "membership")
    for i in range(n):
        p, at, amount = int(c["patient"][i]), int(c["paid_at"][i]), int(c["amount"][i])
        if t["included"][i] >= 0:
            use = uuid7_array(rng, np.array([at * 1000]))[0]
            uses.add(id=use, row=i, membership=t["membership"][i])
            tenders.add(row=i, method=TenderMethod.INCLUDED.value, amount=amount, revenue=0, line=line[i],
                        txn=None, payment=None, reference=str(_uuid(use)))  # fmt: skip
            continue
        bonus, money = int(t["bonus"][i]), int(t["money"][i])
        legs = _bonus_legs(b, p, bonus, at, cur)
        if money > 0:
            legs.append((b.account(p, AccountKind.MONEY, cur), cur, -money, None))
        legs.append((b.clinic(AccountKind.REVENUE, cur), cur, bonus + money, None))
        txn, _ = b.post(TxKind.SPEND, p, at, legs, ref=numbers[i])
        paid = uuid7_array(rng, np.array([at * 1000]))[0] if money > 0 else None
        if paid is not None:
            pays.add(id=paid, row=i, amount=money, method=PaymentMethod.MEMBERSHIP.value,
                     note=f"{numbers[i]} balance")  # fmt: skip
        tenders.add(row=i, method=TenderMethod.BALANCE.value, amount=bonus + money, revenue=money, line=None,
                    txn=txn, payment=paid, reference="")  # fmt: skip
        rest = amount - bonus - money
        if rest > 0:
            drawn = int(c["method"][i])
            method = PAY_METHOD[PAYMENT_METHODS[CARD if drawn == STORED else drawn]]
            legs = [(b.clinic(AccountKind.CASH, cur), cur, -rest, None),
                    (b.clinic(AccountKind.REVENUE, cur), cur, rest, None)]  # fmt: skip
            txn, _ = b.post(TxKind.PAYMENT, p, at, legs, ref=numbers[i], memo=method)
            pays.add(id=c["id"][i], row=i, amount=rest, method=method, note="")
            tenders.add(row=i, method=method, amount=rest, revenue=rest, line=None, txn=txn,
                        payment=c["id"][i], reference="")  # fmt: skip
    b.flush()
    _write(out, c, t, invoice, line, numbers, pays.cols, tenders.cols, uses.cols)


def _uuid(raw: np.ndarray) -> uuid.UUID:
    return uuid.UUID(bytes=raw.tobytes())


def _bonus_legs(b: _Batch, p: int, bonus: int, at: int, cur: str) -> list[tuple[Any, str, int, Any]]:
    """Take ``bonus`` from the patient's bonus lots, the one expiring first first (as the engine did)."""
    legs: list[tuple[Any, str, int, Any]] = []
    if bonus <= 0:
        return legs
    held, want = b.account(p, AccountKind.BONUS, cur), bonus
    for lot in sorted(b.st.bonus.get(p, []), key=lambda x: x[2]):
        # [lot, left, expires at, usable until (the expiry, or its stored-value plan's cancellation)]
        take = min(lot[1], want) if lot[2] > at and lot[3] > at else 0
        if take > 0:
            legs.append((held, cur, -take, lot[0]))
            lot[1] -= take
            want -= take
    assert want == 0, (p, bonus, want)
    return legs


def _write(
    out: SinkBase,
    c: Columns,
    t: Columns,
    invoice: np.ndarray,
    line: np.ndarray,
    numbers: list[str],
    pays: dict[str, list[Any]],
    tenders: dict[str, list[Any]],
    uses: dict[str, list[Any]],
) -> None:
    ctx, st = out.ctx, out.sim.st
    n, amount, at = len(c["id"]), c["amount"].astype(np.int64), c["paid_at"]
    svc = t["service"].astype(np.int64)
    if pays["id"]:
        r = np.array(pays["row"])
        out.put(Payment, {
            "id": np.stack(pays["id"]), "appointment": c["appointment"][r],
            "patient": out.pid(c["patient"][r]),
            "branch": ctx.branch[c["branch"][r]], "amount": np.array(pays["amount"], dtype=np.int64),
            "currency": ctx.currency, "method": pays["method"], "kind": PaymentKind.PAYMENT.value,
            "paid_at": at[r], "recorded_by": None, "note": pays["note"], "created_at": at[r],
        })  # fmt: skip
    zero = np.zeros(n, dtype=np.int64)
    out.put(Invoice, {
        "id": invoice, "number": numbers, "patient": out.pid(c["patient"]), "branch": ctx.branch[c["branch"]],
        "appointment": c["appointment"], "currency": ctx.currency, "subtotal": amount, "discount": zero,
        "total": amount, "paid": amount, "refunded": zero, "status": InvoiceStatus.PAID.value,
        "source": InvoiceSource.SIMULATED.value, "points_earned": 0, "points_taken_back": 0, "note": "",
        "created_by": None, "created_at": at, "paid_at": at,
    })  # fmt: skip
    out.put(InvoiceLine, {
        "id": line, "invoice": invoice, "position": 1, "service": ctx.service[svc], "description": "Visit",
        "category": [CATEGORIES[int(k)] for k in st.svc_category[svc]], "quantity": 1, "unit_price": amount,
        "discount": zero, "total": amount, "quote_line_ref": None,
    })  # fmt: skip
    if uses["id"]:
        r = np.array(uses["row"])
        out.put(MembershipUse, {
            "id": np.stack(uses["id"]), "membership": np.stack(uses["membership"]),
            "patient": out.pid(c["patient"][r]), "service": ctx.service[svc[r]],
            "kind": BenefitKind.INCLUDED.value, "list_price": amount[r], "value": amount[r],
            "reference": [numbers[int(i)] for i in r], "used_at": at[r], "released_at": None,
        })  # fmt: skip
    r = np.array(tenders["row"])
    z16 = np.zeros(16, np.uint8)
    out.put(InvoiceTender, {
        "id": uuid7_array(out.sim.id_rng, at[r].astype(np.int64) * 1000), "invoice": invoice[r],
        "kind": TenderKind.PAYMENT.value, "method": tenders["method"],
        "amount": np.array(tenders["amount"], dtype=np.int64), "points": None,
        "revenue": np.array(tenders["revenue"], dtype=np.int64), "refund_of": None,
        "line": np.stack([z16 if x is None else x for x in tenders["line"]]),
        "line__null": np.array([x is None for x in tenders["line"]]),
        "transaction": np.stack([z16 if x is None else x for x in tenders["txn"]]),
        "transaction__null": np.array([x is None for x in tenders["txn"]]),
        "payment": np.stack([z16 if x is None else x for x in tenders["payment"]]),
        "payment__null": np.array([x is None for x in tenders["payment"]]),
        "batch": invoice[r], "reference": tenders["reference"], "reason": "", "created_by": None,
        "created_at": at[r],
    })  # fmt: skip
