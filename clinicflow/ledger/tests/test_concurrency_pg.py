"""MO-04 on PostgreSQL: simultaneous spends from one balance, each thread on its own connection,
never overspend and never lose a posting; two requests with one idempotency key post once.

``select_for_update`` does nothing on SQLite and a test transaction would hide the race, so this runs
on PostgreSQL only (CI runs the suite there too), with real commits (``transaction=True``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections

from clinicflow.core.errors import Conflict
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.models import Posting, Transaction, TxKind
from clinicflow.ledger.services.idempotency import idempotent
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.ledger.services.wallet import wallet_spend, wallet_top_up
from clinicflow.ledger.tests.factories import make_patient, make_plan, patient_balance

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]
THREADS = 50


def _race(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; each result or exception."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # collected and asserted on by the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_fifty_simultaneous_spends_never_overspend_nor_lose_a_posting(
    org: Organization, branch: Branch
) -> None:
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="50000", currency="RUB", plan=make_plan(org))
    # 55,000 held (5,000 of it bonus); 50 spends of 1,500 = 75,000: exactly 36 fit (54,000)
    results = _race(
        THREADS, lambda i: wallet_spend(org=org, actor=None, patient=patient, amount="1500", currency="RUB")
    )
    done = [r for r in results if isinstance(r, Transaction)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert [r for r in results if not isinstance(r, Transaction | Conflict)] == []
    assert (len(done), len(refused)) == (36, 14)
    assert patient_balance(org, patient, "money") + patient_balance(org, patient, "bonus") == Decimal(
        "1000.00"
    )
    spends = Transaction.objects.for_org(org).filter(kind=TxKind.SPEND)
    assert spends.count() == 36
    assert Posting.objects.for_org(org).filter(transaction__in=spends, account__kind="revenue").count() == 36
    assert ledger_verify(org=org).mismatches == []


def test_whole_balance_spends_at_once_exactly_one_succeeds(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)
    wallet_top_up(org=org, actor=None, patient=patient, amount="700", currency="RUB")
    results = _race(
        20, lambda i: wallet_spend(org=org, actor=None, patient=patient, amount="700", currency="RUB")
    )
    assert sum(isinstance(r, Transaction) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 19
    assert patient_balance(org, patient, "money") == Decimal(0)
    assert ledger_verify(org=org).ok


def test_one_idempotency_key_from_two_threads_posts_once(org: Organization, branch: Branch) -> None:
    patient = make_patient(org)

    def call(i: int) -> tuple[int, dict[str, Any]]:
        def run() -> tuple[int, dict[str, Any]]:
            txn = wallet_top_up(org=org, actor=None, patient=patient, amount="10", currency="RUB")
            return 201, {"id": str(txn.pk)}

        return idempotent(org=org, key="twice", request_fingerprint="f", run=run)

    results = _race(8, call)
    assert all(r == results[0] for r in results), results
    assert Transaction.objects.for_org(org).count() == 1
    assert patient_balance(org, patient, "money") == Decimal("10.00")
