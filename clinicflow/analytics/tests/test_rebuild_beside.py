"""The full rebuild builds the planner's return facts beside the other owner's facts, on a second
connection (``fact_hooks.Beside``), when it runs outside a transaction on PostgreSQL as the rebuild
command does; the rows equal those built in the caller's thread, and an error there reaches the caller."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from clinicflow.analytics.owner import fact_hooks
from clinicflow.analytics.owner.fact_hooks import Beside
from clinicflow.analytics.owner.facts import rebuild
from clinicflow.analytics.pricing.return_facts import build_return_facts
from clinicflow.analytics.pricing.return_models import ReturnGapFact, ReturnLinkFact
from clinicflow.analytics.tests.conftest import SCENARIO
from clinicflow.core.models import Organization
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="a second connection: PostgreSQL")


def _returns(org: Organization) -> list[tuple[Any, ...]]:
    gaps = ReturnGapFact.objects.for_org(org).values_list("day", "currency", "gap", "days", "visits")
    links = ReturnLinkFact.objects.for_org(org).values_list(
        "day", "currency", "since", "c1", "c2", "c3", "c4", "c5", "visits", "amount"
    )
    return sorted([("gap", *g) for g in gaps] + [("link", *r) for r in links], key=str)


@pytest.mark.django_db(transaction=True)
def test_the_return_facts_are_built_beside_and_equal_the_callers(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate_org(org=org, scenario=load_scenario(overrides=SCENARIO), seed=5)
    threads: list[str] = []
    run = Beside._run

    def spy(self: Beside) -> None:
        threads.append(threading.current_thread().name)
        run(self)

    monkeypatch.setattr(Beside, "_run", spy)
    rebuild(org)  # outside a transaction: beside, on the thread's own connection
    assert threads == ["facts-beside"]
    beside = _returns(org)
    assert beside
    with transaction.atomic():  # inside one: in the caller's thread
        build_return_facts(org)
    assert threads == ["facts-beside"]
    assert _returns(org) == beside


@pytest.mark.django_db(transaction=True)
def test_an_error_beside_reaches_the_caller(org: Organization, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("return facts failed")

    monkeypatch.setattr(fact_hooks, "build_return_facts", broken)
    with pytest.raises(RuntimeError, match="return facts failed"):
        fact_hooks.build_owner_facts(org)
