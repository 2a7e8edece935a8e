"""Checkout tables from the payments the engine emits: each paid visit gets its invoice (one line at
the visit's price, paid in full), the tender that paid it (linked to its ``booking.Payment``), and the
tender's balanced journal transaction (``cash`` → ``revenue``), written in bulk like the rest.

The clinic's ``cash`` and ``revenue`` accounts are the ledger writer's (one per kind and run). Visits
paid with the scenario's ``stored_value`` method keep the method ``membership`` and post cash →
revenue too (the simulated wallets are not drawn down by visits)."""

from __future__ import annotations

import numpy as np

from clinicflow.ledger.models import (
    AccountKind,
    Invoice,
    InvoiceLine,
    InvoiceSource,
    InvoiceStatus,
    InvoiceTender,
    Posting,
    TenderKind,
    Transaction,
    TxKind,
)
from clinicflow.simulator.engine.ids import hex_ids, uuid7_array
from clinicflow.simulator.scenario import CATEGORIES, PAYMENT_METHODS
from clinicflow.simulator.writers.base import Columns, SinkBase
from clinicflow.simulator.writers.booking import PAY_METHOD
from clinicflow.simulator.writers.ledger import _Batch


def _accounts(out: SinkBase) -> tuple[np.ndarray, np.ndarray]:
    """The ids of the clinic's cash and revenue accounts in the run's currency, shared with the
    ledger writer (:mod:`.ledger`, which writes each clinic account once per run)."""
    batch = _Batch(out)
    cash, revenue = (
        batch.clinic(AccountKind.CASH, out.ctx.currency),
        batch.clinic(AccountKind.REVENUE, out.ctx.currency),
    )
    batch.flush()
    return cash, revenue


def write_invoices(out: SinkBase, c: Columns) -> None:
    """Invoices, lines, tenders and journal postings for one chunk of visit payments."""
    n = len(c["id"])
    if n == 0:
        return
    cash, revenue = _accounts(out)
    ctx, paid_at, amount = out.ctx, c["paid_at"], c["amount"]
    rng = out.sim.id_rng
    svc = c.get("service")  # the visit's service (the line's), when the chunk says it
    ms = paid_at.astype(np.int64) * 1000
    invoice, line, tender, txn = (uuid7_array(rng, ms) for _ in range(4))
    numbers = ["S-" + h[-12:].upper() for h in hex_ids(invoice)]
    patient, branch = out.pid(c["patient"]), ctx.branch[c["branch"]]
    methods = [PAY_METHOD[PAYMENT_METHODS[int(m)]] for m in c["method"]]
    out.put(
        Invoice,
        {
            "id": invoice,
            "number": numbers,
            "patient": patient,
            "branch": branch,
            "appointment": c["appointment"],
            "currency": ctx.currency,
            "subtotal": amount,
            "discount": np.zeros(n, dtype=np.int64),
            "total": amount,
            "paid": amount,
            "refunded": np.zeros(n, dtype=np.int64),
            "status": InvoiceStatus.PAID.value,
            "source": InvoiceSource.SIMULATED.value,
            "points_earned": 0,
            "points_taken_back": 0,
            "note": "",
            "created_by": None,
            "created_at": paid_at,
            "paid_at": paid_at,
        },
    )
    out.put(
        InvoiceLine,
        {
            "id": line,
            "invoice": invoice,
            "position": 1,
            "service": out.ctx.service[svc] if svc is not None else None,
            "description": "Visit",
            "category": [CATEGORIES[int(k)] for k in out.sim.st.svc_category[svc]] if svc is not None else "",
            "quantity": 1,
            "unit_price": amount,
            "discount": np.zeros(n, dtype=np.int64),
            "total": amount,
            "quote_line_ref": None,
        },
    )
    out.put(
        Transaction,
        {
            "id": txn,
            "kind": TxKind.PAYMENT.value,
            "patient": patient,
            "reverses": None,
            "memo": methods,
            "reference": numbers,
            "created_by": None,
            "created_at": paid_at,
        },
    )
    both = np.concatenate([paid_at, paid_at])
    out.put(
        Posting,
        {
            "id": uuid7_array(rng, np.concatenate([ms, ms])),
            "transaction": np.concatenate([txn, txn]),
            "account": np.concatenate(
                [np.repeat(cash[None, :], n, axis=0), np.repeat(revenue[None, :], n, axis=0)]
            ),
            "unit": ctx.currency,
            "amount": np.concatenate([-amount.astype(np.int64), amount.astype(np.int64)]),
            "balance_after": None,
            "seq": None,
            "lot": None,
            "expires_at": None,
            "created_at": both,
        },
    )
    out.put(
        InvoiceTender,
        {
            "id": tender,
            "invoice": invoice,
            "kind": TenderKind.PAYMENT.value,
            "method": methods,
            "amount": amount,
            "points": None,
            "revenue": amount,
            "refund_of": None,
            "line": None,
            "transaction": txn,
            "payment": c["id"],
            "batch": invoice,
            "reference": "",
            "reason": "",
            "created_by": None,
            "created_at": paid_at,
        },
    )
