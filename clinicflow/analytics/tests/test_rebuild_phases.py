"""Where a rebuild's time goes (``owner.rebuild_phases``): each statement is charged to the owner module
that issued it, the summary names every phase with its statements, slow statements are shown; and the
incremental update (``owner.changes``) tells the patients whose history changed from those whose
appointments only went back and forth within a batch or stayed within their kind (arrived -> done)."""

from __future__ import annotations

import pytest

from clinicflow.analytics.models import FactsChange
from clinicflow.analytics.owner import cohort_facts
from clinicflow.analytics.owner.admin_facts import build_admin_facts
from clinicflow.analytics.owner.admin_models import AdminDayFact
from clinicflow.analytics.owner.changes import _affected, apply_changes
from clinicflow.analytics.owner.facts import Clock, rebuild
from clinicflow.analytics.owner.facts_span import data_span
from clinicflow.analytics.owner.rebuild_phases import PhaseClock, phase_of_caller, timed_phases
from clinicflow.analytics.tests.test_owner_incremental import _facts
from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.core.models import Organization
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario


def test_a_statement_is_charged_to_the_owner_module_that_issued_it() -> None:
    assert phase_of_caller() == "other"  # a test module is no phase
    clock = PhaseClock(lambda line: None)
    seen: list[str] = []

    def run(sql: str, params: object, many: bool, context: object) -> None:
        seen.append(sql)

    clock(run, "SELECT 1", None, False, None)
    assert seen == ["SELECT 1"] and clock.statements == {"other": 1}


@pytest.mark.django_db
def test_phases_report_each_module_its_statements_and_the_slow_ones(org: Organization) -> None:
    lines: list[str] = []
    with timed_phases(lines.append, slow=0.0):
        assert data_span(org) is None  # no raw data: every span query runs and finds nothing
    summary = lines[-1]
    assert summary.startswith("phases: facts_span ") and " statements, " in summary
    statements = [line for line in lines if line.startswith("  facts_span statement ")]
    assert len(statements) == int(summary.split("(")[1].split(" ")[0]) >= 5
    quiet: list[str] = []
    with timed_phases(None):
        data_span(org)
    assert quiet == []


@pytest.mark.django_db
def test_back_and_forth_and_within_kind_touch_no_history_and_equal_a_rebuild(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate_org(
        org=org, scenario=load_scenario(overrides={"clinic": {"months": 2, "end_date": "2026-11-30"}}), seed=4
    )
    done = list(
        Appointment.objects.for_org(org).filter(status=AppointmentStatus.DONE).order_by("start_at")[:5]
    )
    Appointment.objects.filter(pk=done[3].pk).update(status=AppointmentStatus.ARRIVED)  # set up, unrecorded
    rebuild(org)
    FactsChange.objects.for_org(org).delete()
    built = _facts(org)
    for a in done[:3]:  # marked booked by mistake and back, as the benchmark's replayed day
        a.status = AppointmentStatus.BOOKED
        a.save(update_fields=["status"])
        a.status = AppointmentStatus.DONE
        a.save(update_fields=["status"])
    arrived = Appointment.objects.get(pk=done[3].pk)
    arrived.status = AppointmentStatus.DONE  # within its kind: still a visit that happened
    arrived.save(update_fields=["status"])
    found = _affected(org, list(FactsChange.objects.for_org(org)))
    assert found.touched == set() and found.refirsted == set()
    assert {
        Clock(org).day(a.branch_id, a.start_at) for a in done[:4]
    } <= found.days  # their own days are built again
    apply_changes(org)
    assert _facts(org) == built and not FactsChange.objects.for_org(org).exists()
    late = done[4]
    late.status = AppointmentStatus.NO_SHOW  # no longer happened: its patient's history changed
    late.save(update_fields=["status"])
    found = _affected(org, list(FactsChange.objects.for_org(org)))
    assert found.touched == {late.patient_id}
    monkeypatch.setattr(cohort_facts, "PART", 2)  # the cells' first patients in parts (summed on read)
    apply_changes(org)
    incremental = _facts(org)
    assert incremental != built
    rebuild(org)
    assert _facts(org) == incremental
    # the full rebuild's front-desk facts read the staged first visits (PostgreSQL): equal to the
    # facts built alone from ``first_visit_times``
    staged = _admin(org)
    assert staged and build_admin_facts(org) == len(staged) and _admin(org) == staged


def _admin(org: Organization) -> list[tuple[object, ...]]:
    fields = ("branch_id", "day", "utc_day", "administrator_id", "unique_calls", "booked", "arrived")
    return sorted(AdminDayFact.objects.for_org(org).values_list(*fields, "scored", "score_tenths"), key=str)
