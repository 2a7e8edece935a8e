"""Time is real: a run ending at a moment inside a working day has nothing final after it — later
visits are booked or confirmed, no call, session, lead, payment, answer or closed task comes after
it — and the callbacks of missed calls older than a couple of days are closed."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.db.models import F, Q

from clinicflow.acquisition.models import Call, CallbackTask, Lead, WebSession
from clinicflow.booking.models import Appointment, AppointmentStatus, Payment
from clinicflow.care.models import FollowUpTask, RecallContact
from clinicflow.clinical.models import (
    Complication,
    Consultation,
    Quote,
    SignedConsent,
    TreatmentRecord,
)
from clinicflow.core.models import Organization
from clinicflow.feedback.models import SurveyAnswer
from clinicflow.ledger.models import Membership, Posting
from clinicflow.patients.models import ConsentEvent, Patient
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

# the mid scenario ends on Tuesday 2026-06-30; "now" is 11:00 in Moscow (15:00 in Novosibirsk)
NOW = dt.datetime(2026, 6, 30, 11, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Moscow"))
SCENARIO = {"clinic": {"months": 3, "demand_factor": 1.0}}
OPEN = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)


@pytest.fixture
def simulated(org: Organization) -> Organization:
    simulate_org(org=org, scenario=load_scenario("mid", overrides=SCENARIO), seed=3, now=NOW)
    return org


@pytest.mark.django_db
def test_no_visit_after_now_is_final(simulated: Organization) -> None:
    appts = Appointment.objects.for_org(simulated)
    later = appts.filter(start_at__gt=NOW)
    assert later.exclude(status__in=OPEN).count() == 0
    # today's later appointments exist and are open; the horizon's too
    later_today = later.filter(start_at__lt=NOW + dt.timedelta(hours=10))
    assert later_today.exists()
    assert set(later.values_list("status", flat=True)) == set(OPEN)
    # a visit under way has arrived, none has ended in the future
    assert not appts.filter(
        end_at__gt=NOW, status__in=[AppointmentStatus.DONE, AppointmentStatus.NO_SHOW]
    ).exists()
    assert appts.filter(start_at__lte=NOW, status=AppointmentStatus.DONE).exists()
    assert not appts.filter(Q(created_at__gt=NOW) | Q(arrived_at__gt=NOW) | Q(cancelled_at__gt=NOW)).exists()


@pytest.mark.django_db
def test_nothing_happens_after_now(simulated: Organization) -> None:
    checks = {
        "calls": Call.objects.for_org(simulated).filter(started_at__gt=NOW),
        "sessions": WebSession.objects.for_org(simulated).filter(started_at__gt=NOW),
        "leads": Lead.objects.for_org(simulated).filter(created_at__gt=NOW),
        "payments": Payment.objects.for_org(simulated).filter(Q(paid_at__gt=NOW) | Q(created_at__gt=NOW)),
        "patients": Patient.objects.for_org(simulated).filter(created_at__gt=NOW),
        "consents": ConsentEvent.objects.for_org(simulated).filter(at__gt=NOW),
        "callbacks": CallbackTask.objects.for_org(simulated).filter(
            Q(created_at__gt=NOW) | Q(done_at__gt=NOW)
        ),
        "surveys": SurveyAnswer.objects.for_org(simulated).filter(answered_at__gt=NOW),
        "complications": Complication.objects.for_org(simulated).filter(
            Q(created_at__gt=NOW) | Q(onset_date__gt=NOW.date())
        ),
        "consultations": Consultation.objects.for_org(simulated).filter(created_at__gt=NOW),
        "quotes": Quote.objects.for_org(simulated).filter(Q(created_at__gt=NOW) | Q(decided_at__gt=NOW)),
        "signed consents": SignedConsent.objects.for_org(simulated).filter(signed_at__gt=NOW),
        "treatments": TreatmentRecord.objects.for_org(simulated).filter(signed_at__gt=NOW),
        "recall calls": RecallContact.objects.for_org(simulated).filter(contacted_at__gt=NOW),
        "points": Posting.objects.for_org(simulated).filter(unit="PTS", created_at__gt=NOW),
        "memberships": Membership.objects.for_org(simulated).filter(starts_at__gt=NOW),
        "follow-ups done before due": FollowUpTask.objects.for_org(simulated).filter(
            due_at__gt=NOW, status__in=["done", "missed"]
        ),
    }
    assert {name: qs.count() for name, qs in checks.items()} == dict.fromkeys(checks, 0)
    # the day so far did happen
    assert Call.objects.for_org(simulated).filter(started_at__gt=NOW - dt.timedelta(days=1)).exists()


@pytest.mark.django_db
def test_old_callbacks_are_closed(simulated: Organization) -> None:
    tasks = CallbackTask.objects.for_org(simulated)
    assert tasks.count() > 50
    stale = NOW - dt.timedelta(days=2)
    assert not tasks.filter(done_at__isnull=True, created_at__lt=stale).exists()
    gave_up = tasks.filter(outcome__startswith="gave up")
    assert gave_up.exists()
    # closed after they were due, within the two days of tries
    assert not gave_up.filter(done_at__lt=F("due_at")).exists()
    assert tasks.filter(outcome__in=["talked", "booked"]).exists()
