"""Work beside the caller's, on a second connection (``fact_hooks.Beside``), when it runs outside a
transaction on PostgreSQL as the rebuild command and the worker do: the full rebuild's return facts,
and the incremental update's facts of the raw tables (``fact_hooks.build_raw_facts``). The rows equal
those built in the caller's thread or by a rebuild, and an error there reaches the caller (the update's
changes then stay, its own facts rolled back)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction

from clinicflow.analytics.models import DayFact, FactsChange
from clinicflow.analytics.owner import fact_hooks
from clinicflow.analytics.owner.capload_models import CapacityFact
from clinicflow.analytics.owner.changes import apply_changes
from clinicflow.analytics.owner.fact_hooks import Beside
from clinicflow.analytics.owner.facts import rebuild
from clinicflow.analytics.pricing.return_facts import build_return_facts
from clinicflow.analytics.pricing.return_models import ReturnGapFact, ReturnLinkFact
from clinicflow.analytics.tests.conftest import SCENARIO
from clinicflow.booking.models import Appointment, AppointmentStatus
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


def _threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads the work beside ran on, as it runs."""
    threads: list[str] = []
    run = Beside._run

    def spy(self: Beside) -> None:
        threads.append(threading.current_thread().name)
        run(self)

    monkeypatch.setattr(Beside, "_run", spy)
    return threads


def _raw_facts(org: Organization) -> list[tuple[Any, ...]]:
    """The return facts and the capacity facts (two of ``build_raw_facts``')."""
    cap = CapacityFact.objects.for_org(org).values_list(
        "branch_id", "day", "hour", "doctor_id", "room_id", "available_seconds", "booked_seconds"
    )
    return _returns(org) + sorted(((*r[:5], round(r[5], 3), round(r[6], 3)) for r in cap), key=str)


def _a_visit_found_not_to_have_happened(org: Organization) -> None:
    """A visit marked done turns out a no-show (a plain save: the change is recorded)."""
    visit = Appointment.objects.for_org(org).filter(status=AppointmentStatus.DONE).order_by("start_at")[40]
    visit.status = AppointmentStatus.NO_SHOW
    visit.save(update_fields=["status"])


@pytest.mark.django_db(transaction=True)
def test_the_return_facts_are_built_beside_and_equal_the_callers(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate_org(org=org, scenario=load_scenario(overrides=SCENARIO), seed=5)
    threads = _threads(monkeypatch)
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


@pytest.mark.django_db(transaction=True)
def test_the_incremental_updates_raw_facts_are_built_beside_and_equal_a_rebuild(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate_org(org=org, scenario=load_scenario(overrides=SCENARIO), seed=5)
    rebuild(org)
    FactsChange.objects.for_org(org).delete()  # the simulator writes in bulk: nothing recorded
    before = _raw_facts(org)
    _a_visit_found_not_to_have_happened(org)
    threads = _threads(monkeypatch)
    while apply_changes(org).changes:  # the worker's call: outside a transaction
        pass
    assert threads == ["facts-beside"]
    assert not FactsChange.objects.for_org(org).exists()
    incremental = _raw_facts(org)
    assert incremental != before  # one visit fewer among the return facts
    rebuild(org)
    assert _raw_facts(org) == incremental


@pytest.mark.django_db(transaction=True)
def test_an_error_beside_the_incremental_update_rolls_it_back_and_keeps_its_changes(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate_org(org=org, scenario=load_scenario(overrides=SCENARIO), seed=5)
    rebuild(org)
    FactsChange.objects.for_org(org).delete()
    days = sorted(
        DayFact.objects.for_org(org).values_list("branch_id", "day", "happened", "no_shows"), key=str
    )
    _a_visit_found_not_to_have_happened(org)
    recorded = FactsChange.objects.for_org(org).count()
    assert recorded > 0

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("raw facts failed")

    monkeypatch.setattr(fact_hooks, "build_raw_facts", broken)
    with pytest.raises(RuntimeError, match="raw facts failed"):
        apply_changes(org)
    assert FactsChange.objects.for_org(org).count() == recorded  # for the next run
    after = sorted(
        DayFact.objects.for_org(org).values_list("branch_id", "day", "happened", "no_shows"), key=str
    )
    assert after == days  # the update's own facts rolled back with it
