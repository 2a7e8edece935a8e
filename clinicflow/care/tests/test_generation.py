"""A done visit's plan becomes tasks (due on the branch's calendar), once; thank-you messages within 48 h."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking.models import AppointmentStatus
from clinicflow.care import jobs
from clinicflow.care.models import Action, AftercareRun, FollowUpPlan, FollowUpTask
from clinicflow.care.services.generation import add_months, followups_generate_for, thank_you_send
from clinicflow.care.services.plans import plans_ensure_defaults
from clinicflow.care.tests.factories import done_visit, setup
from clinicflow.core.models import Branch, Organization
from clinicflow.messaging.models import Message

pytestmark = pytest.mark.django_db


def test_add_months_keeps_the_day_or_takes_the_months_last() -> None:
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 10, 15), 4) == dt.date(2027, 2, 15)
    assert add_months(dt.date(2026, 3, 3), 0) == dt.date(2026, 3, 3)


def test_botulinum_default_plan_is_call_checkup_and_maintenance_in_four_months(
    org: Organization, branch: Branch
) -> None:
    service, _, _ = setup(org, branch)
    assert plans_ensure_defaults(org=org) == 1
    assert plans_ensure_defaults(org=org) == 0  # once per service
    plan = FollowUpPlan.objects.for_org(org).get(service=service)
    steps = [(s.action, s.day_offset, s.months, s.assignee_role) for s in plan.steps.order_by("position")]
    assert steps == [
        (Action.CALL, 1, 0, "doctor"),
        (Action.CHECKUP, 14, 0, "frontdesk"),
        (Action.MAINTENANCE, 0, 4, "frontdesk"),
    ]


def test_a_done_visit_makes_its_tasks_once_with_due_dates_on_the_branch_calendar(
    org: Organization, branch: Branch, users: dict[str, User]
) -> None:
    service, doctor, patient = setup(org, branch)
    doctor.user = users["doctor"]
    doctor.save(update_fields=["user"])
    plans_ensure_defaults(org=org)
    # 23:30 in Moscow on 10 March is 20:30 UTC: the local day is the 10th
    start = dt.datetime(2026, 3, 10, 23, 30, tzinfo=branch.tz) - dt.timedelta(minutes=60)
    appt = done_visit(org, branch, patient, service, doctor, start)
    assert followups_generate_for(org=org, appointments=[appt]) == 3
    followups_generate_for(org=org, appointments=[appt])  # a retry
    tasks = list(FollowUpTask.objects.for_org(org).order_by("due_on"))
    assert [(t.action, t.due_on) for t in tasks] == [
        (Action.CALL, dt.date(2026, 3, 11)),
        (Action.CHECKUP, dt.date(2026, 3, 24)),
        (Action.MAINTENANCE, dt.date(2026, 7, 10)),
    ]
    assert tasks[0].assignee == users["doctor"]  # the doctor who did it
    assert tasks[0].due_at == dt.datetime(2026, 3, 12, tzinfo=branch.tz)  # the end of the local day
    assert tasks[1].assignee is None and tasks[1].assignee_role == "frontdesk"
    assert AftercareRun.objects.for_org(org).get().tasks == 3


def test_the_job_handles_recent_done_visits_only_and_a_second_run_adds_nothing(
    org: Organization, branch: Branch
) -> None:
    service, doctor, patient = setup(org, branch)
    plans_ensure_defaults(org=org)
    now = timezone.now()
    done_visit(org, branch, patient, service, doctor, now - dt.timedelta(hours=3))
    done_visit(org, branch, patient, service, doctor, now - dt.timedelta(days=10))  # too old
    open_visit = done_visit(org, branch, patient, service, doctor, now - dt.timedelta(hours=6))
    open_visit.status = AppointmentStatus.BOOKED
    open_visit.save(update_fields=["status"])
    assert jobs.followups_generate() == "visits=1 tasks=3"
    assert jobs.followups_generate() == "visits=0 tasks=0"
    assert FollowUpTask.objects.for_org(org).count() == 3


def test_thank_you_goes_once_per_channel_in_the_patients_language_within_48_hours(
    org: Organization, branch: Branch
) -> None:
    service, doctor, patient = setup(org, branch)
    plans_ensure_defaults(org=org)
    now = timezone.now()
    appt = done_visit(org, branch, patient, service, doctor, now - dt.timedelta(hours=2))
    jobs.followups_generate()
    assert jobs.thanks_send() == "visits=1 messages=2"
    assert jobs.thanks_send() == "visits=0 messages=0"
    assert thank_you_send(org=org, appointment=appt, now=now) == 0  # dedupe keys: nothing new
    sent = Message.objects.for_org(org).filter(kind="thank_you").order_by("channel")
    assert [m.channel for m in sent] == ["email", "sms"]
    assert all("пасибо за визит" in (m.subject + m.body_text) for m in sent)


def test_no_thank_you_after_48_hours_or_without_an_address(org: Organization, branch: Branch) -> None:
    service, doctor, patient = setup(org, branch)
    now = timezone.now()
    late = done_visit(org, branch, patient, service, doctor, now - dt.timedelta(hours=50))
    assert thank_you_send(org=org, appointment=late, now=now) == 0
    patient.email = ""
    patient.save(update_fields=["email", "email_index"])
    fresh = done_visit(org, branch, patient, service, doctor, now - dt.timedelta(hours=1))
    assert thank_you_send(org=org, appointment=fresh, now=now) == 1  # the SMS only
    assert Message.objects.for_org(org).filter(kind="thank_you").count() == 1
