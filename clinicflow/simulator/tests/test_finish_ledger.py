"""The simulator's bulk earning of membership fees writes what the ledger's service writes: the same
transactions and postings (all but their ids) and the same cached balances, first after the load
and again later (the fee earned since), and ``ledger verify`` stays clean."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import numpy as np
import pytest
from django.db import transaction

from clinicflow.core.models import Organization
from clinicflow.ledger.models import Account, Posting, Transaction, TxKind
from clinicflow.ledger.services.memberships import memberships_earn_due
from clinicflow.ledger.services.verify import ledger_verify
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario
from clinicflow.simulator.writers import ledger_finish

NOW = dt.datetime(2026, 6, 30, 11, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Moscow"))
SCENARIO = {"clinic": {"months": 4, "demand_factor": 1.0}, "loyalty": {"membership_probability": 0.3}}


def _earned(org: Organization, at: dt.datetime) -> tuple[list[Any], list[Any]]:
    """The fees earned at ``at`` (each transaction with its postings, ids left out) and every account."""
    postings: dict[Any, list[Any]] = {}
    for p in Posting.objects.for_org(org).filter(transaction__kind=TxKind.MEMBERSHIP_EARN, created_at=at):
        row = (str(p.account_id), p.unit, p.amount, p.balance_after, p.seq, str(p.lot_id), p.expires_at)
        postings.setdefault(p.transaction_id, []).append(row)
    txns = sorted(
        (
            str(t.patient_id),
            t.reference,
            t.memo,
            t.created_at,
            t.created_by_id,
            t.reverses_id,
            sorted(postings[t.pk]),
        )
        for t in Transaction.objects.for_org(org).filter(kind=TxKind.MEMBERSHIP_EARN, created_at=at)
    )
    accounts = sorted(Account.objects.for_org(org).values_list("id", "kind", "unit", "balance", "last_seq"))
    return txns, accounts


def _service_then_bulk(org: Organization, at: dt.datetime) -> int:
    """Earn at ``at`` through the service (rolled back), then in bulk (kept); the rows must agree."""
    with transaction.atomic():
        point = transaction.savepoint()
        by_service = memberships_earn_due(org=org, at=at, limit=10**9)
        expected = _earned(org, at)
        transaction.savepoint_rollback(point)
    assert _earned(org, at)[0] == []
    in_bulk = ledger_finish.earn_memberships(org, at, np.random.default_rng(3))
    assert in_bulk == by_service
    assert _earned(org, at) == expected
    return in_bulk


@pytest.mark.django_db
def test_bulk_earning_writes_the_rows_of_the_service(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the load without its earning, so that the first earning is compared too
    monkeypatch.setattr(ledger_finish, "earn_memberships", lambda *_args: 0)
    simulate_org(org=org, scenario=load_scenario("mid", overrides=SCENARIO), seed=5, now=NOW)
    monkeypatch.undo()
    at = NOW.astimezone(dt.UTC).replace(microsecond=0)
    first = _service_then_bulk(org, at)
    assert first > 20
    later = _service_then_bulk(org, at + dt.timedelta(days=45, hours=3, seconds=7))
    assert later > 20
    # nothing is earned twice: at the same moment again there is nothing left to post
    assert (
        ledger_finish.earn_memberships(
            org, at + dt.timedelta(days=45, hours=3, seconds=7), np.random.default_rng(4)
        )
        == 0
    )
    report = ledger_verify(org=org)
    assert report.ok, report.mismatches[:5]
