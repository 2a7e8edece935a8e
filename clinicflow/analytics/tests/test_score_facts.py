"""The score facts (``owner.score_facts``, issue #17): the department scorecards and the balanced doctor
read them and give exactly what they gave from the raw rows (``owner.score_raw``, the feedback and
clinical selectors: the present code path, read when the facts were never built) — for the chain and
a branch, over periods of several lengths, with "now" inside the latest period; and the facts a user's
changes update incrementally equal a full rebuild."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from freezegun import freeze_time

from clinicflow.acquisition.models import CallbackTask
from clinicflow.analytics.models import FactsChange
from clinicflow.analytics.owner.changes import apply_changes
from clinicflow.analytics.owner.facts import rebuild
from clinicflow.analytics.owner.score_facts import build_score_facts
from clinicflow.analytics.owner.score_models import AnswerDayFact, ComplicationDayFact, ScoreDayFact
from clinicflow.analytics.owner.score_raw import raw_periods
from clinicflow.analytics.owner.score_reads import gap_periods, score_periods
from clinicflow.analytics.owner.scorecards import period_values
from clinicflow.analytics.reports.base import ReportContext
from clinicflow.analytics.reports.owner import doctors
from clinicflow.analytics.tests.scorecards_reference import reference_part_values
from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.care.models import FollowUpTask, TaskStatus
from clinicflow.clinical.models import Complication, TreatmentRecord
from clinicflow.conftest import module_data
from clinicflow.core.models import Organization, Region
from clinicflow.core.selectors import branch_list
from clinicflow.feedback.models import SurveyAnswer
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

END = dt.date(2026, 11, 30)
FACTS = (ScoreDayFact, AnswerDayFact, ComplicationDayFact)


@pytest.fixture(scope="module")
def clinic(django_db_setup: Any, django_db_blocker: Any) -> Any:
    from clinicflow.core.services import organization_create

    with module_data(django_db_blocker):
        org = organization_create(
            name="Score Clinic", slug="score", country="RU", currency="RUB", data_region=Region.RU
        )
        simulate_org(
            org=org, scenario=load_scenario(overrides={"clinic": {"months": 5, "end_date": str(END)}}), seed=5
        )
        rebuild(org)
        yield org


def _periods(days: int, end: dt.date = END) -> list[tuple[dt.date, dt.date]]:
    d0 = end - dt.timedelta(days=days - 1)
    return [(d0 - dt.timedelta(days=days * k), end - dt.timedelta(days=days * k)) for k in range(3)]


def _without_facts(org: Organization) -> None:
    for model in FACTS:
        model.objects.for_org(org).delete()


def _ctx(org: Organization, d0: dt.date, d1: dt.date, branch: Any) -> ReportContext:
    return ReportContext(org=org, user=None, date_from=d0, date_to=d1, branch=branch)


@pytest.mark.django_db
@pytest.mark.parametrize("days", [7, 30, 90])
def test_the_scorecards_from_the_facts_equal_the_raw_reads(clinic: Organization, days: int) -> None:
    org = clinic
    branches = branch_list(org=org)
    assert len(branches) >= 2
    for branch in (None, branches[1]):
        periods = _periods(days)
        scored = score_periods(org, periods, branch)
        assert scored is not None
        assert (*scored, gap_periods(org, periods, branch)) == raw_periods(org, periods, branch), (
            days,
            branch,
        )
        assert period_values(org=org, periods=periods, branch=branch) == [
            reference_part_values(org=org, date_from=a, date_to=b, branch=branch) for a, b in periods
        ]
    # not vacuous: the facts hold every source, and the chain's periods have follow-ups, callbacks, gaps
    assert all(m.objects.for_org(org).exists() for m in FACTS)
    visits, tasks = score_periods(org, _periods(days), None) or ([], [])
    assert visits[0] > 0 and tasks[0][0][1] > 0 and tasks[0][1][1] > 0
    assert any(g["gap_answers"] for g in (gap_periods(org, _periods(days), None) or [[]])[0])


@pytest.mark.django_db
def test_follow_ups_due_today_are_counted_up_to_now_from_the_facts(clinic: Organization) -> None:
    org = clinic
    task = FollowUpTask.objects.for_org(org).exclude(status=TaskStatus.CANCELLED).order_by("due_at").last()
    assert task is not None
    # "now" on the day a task is due, before and after its moment: counted only once due
    for moment in (task.due_at - dt.timedelta(hours=3), task.due_at + dt.timedelta(minutes=1)):
        with freeze_time(moment):
            today = timezone.now().date()
            for branch in (None, task.branch):
                periods = _periods(28, today + dt.timedelta(days=3))
                assert (score_periods(org, periods, branch) or ([], []))[1] == raw_periods(
                    org, periods, branch
                )[1]


@pytest.mark.django_db
@pytest.mark.parametrize("days", [30, 90, 365])
def test_the_balanced_doctor_from_the_facts_equals_the_raw_reads(clinic: Organization, days: int) -> None:
    org = clinic
    for branch in (None, branch_list(org=org)[0]):
        ctx = _ctx(org, END - dt.timedelta(days=days - 1), END, branch)
        fast = doctors.compute(ctx)
        with_facts = doctors._balance(ctx)
        _without_facts(org)
        slow = doctors.compute(ctx)
        raw = doctors._balance(ctx)
        build_score_facts(org)
        rates = {k: (r.complications, r.treatments) for k, r in raw[0].items()}
        assert {k: (r.complications, r.treatments) for k, r in with_facts[0].items()} == rates
        assert {k: {"answers": v["answers"], "nps": v["nps"]} for k, v in raw[1].items()} == with_facts[1]
        assert {k: {"gap": v["gap"], "flagged": v["flagged"]} for k, v in raw[2].items()} == with_facts[2]
        assert with_facts[3] == raw[3]
        assert fast.rows == slow.rows, (days, branch)
        assert rates and with_facts[1] and with_facts[2]  # not vacuous
    assert any(r["complication_rate"] for r in fast.rows)


def _facts(org: Organization) -> list[list[tuple[Any, ...]]]:
    out = []
    for model in FACTS:
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in ("id", "organization_id")]
        out.append(sorted(model.objects.for_org(org).values_list(*names), key=str))
    return out


@pytest.mark.django_db
def test_changes_applied_incrementally_equal_a_full_rebuild(clinic: Organization) -> None:
    org = clinic
    FactsChange.objects.for_org(org).delete()
    before = _facts(org)
    now = timezone.now()
    tasks = list(FollowUpTask.objects.for_org(org).filter(status=TaskStatus.OPEN).order_by("due_at")[:4])
    tasks[0].status, tasks[0].done_at = TaskStatus.DONE, tasks[0].due_at - dt.timedelta(hours=1)
    tasks[0].save()
    tasks[1].due_at -= dt.timedelta(days=3)  # moved to another day
    tasks[1].save()
    tasks[2].status = TaskStatus.CANCELLED
    tasks[2].save()
    tasks[3].delete()
    callback = CallbackTask.objects.for_org(org).filter(done_at__isnull=True).order_by("due_at").first()
    assert callback is not None
    callback.done_at = now
    callback.save()
    answers = list(
        SurveyAnswer.objects.for_org(org).filter(expectation__isnull=False).order_by("answered_at")[:3]
    )
    answers[0].result = 0 if answers[0].result else 10
    answers[0].save()
    answers[1].nps = (
        0 if answers[1].nps >= 9 else 10
    )  # (its moment is fixed: the signal records the current one)
    answers[1].save()
    answers[2].delete()
    model = TreatmentRecord.objects.for_org(org).order_by("created_at").first()
    assert model is not None
    treated = TreatmentRecord.objects.for_org(org).values("appointment_id")
    visit = (
        Appointment.objects.for_org(org).filter(status=AppointmentStatus.DONE).exclude(pk__in=treated).first()
    )
    assert visit is not None
    TreatmentRecord.objects.create(
        organization=org,
        appointment=visit,
        patient_id=visit.patient_id,
        doctor_id=visit.doctor_id,
        service_id=model.service_id,
        signed_at=visit.start_at + dt.timedelta(hours=1),  # signed off at once
    )
    entry = Complication.objects.for_org(org).order_by("onset_date").first()
    assert entry is not None
    Complication.objects.create(
        organization=org,
        patient_id=entry.patient_id,
        appointment_id=entry.appointment_id,
        treatment_id=entry.treatment_id,
        doctor_id=entry.doctor_id,
        service_id=entry.service_id,
        severity=entry.severity,
        onset_date=entry.onset_date + dt.timedelta(days=4),  # corrected: another onset day
        description=entry.description,
        outcome=entry.outcome,
        corrects=entry,
        recorded_by_id=entry.recorded_by_id,
    )
    assert FactsChange.objects.for_org(org).exists()
    while apply_changes(org).changes:
        pass
    incremental = _facts(org)
    assert incremental != before  # the changes moved the facts
    build_score_facts(org)
    for model, inc, full in zip(FACTS, incremental, _facts(org), strict=True):
        assert inc == full, (model.__name__, sorted(set(inc) - set(full)), sorted(set(full) - set(inc)))
