"""The daily facts follow every change a user can make — through the booking, payment, patient and
feedback services (or a plain ``save``/``delete``, which sends the same signals) — applied by the
worker's job from the recorded changes, and the result equals a full rebuild from the raw tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from clinicflow.acquisition.models import Call, CallStatus, Channel, Lead
from clinicflow.analytics.models import DayFact, FactsChange, RevenueFact
from clinicflow.analytics.owner.capload_models import CapacityFact
from clinicflow.analytics.owner.changes import apply_changes
from clinicflow.analytics.owner.facts import COUNTS, rebuild
from clinicflow.analytics.owner.facts_more import FUNNEL
from clinicflow.analytics.owner.first_models import FirstVisitFact
from clinicflow.analytics.owner.jobs import apply_recorded_changes
from clinicflow.analytics.owner.signals import CLOCK, LOAD, SPAN
from clinicflow.analytics.tests.conftest import SCENARIO, first_happened
from clinicflow.analytics.tests.test_owner_channel_facts import owner_facts_snapshot
from clinicflow.booking.models import (
    Appointment,
    AppointmentStatus,
    DoctorBranch,
    Payment,
    PaymentKind,
    Room,
    WorkingHours,
)
from clinicflow.booking.services import appointment_cancel, appointment_mark
from clinicflow.booking.services.payments import payment_record
from clinicflow.core.models import Branch, Organization
from clinicflow.core.money import Money
from clinicflow.feedback.models import Survey, SurveyAnswer, SurveyKind
from clinicflow.patients.models import Patient, Source
from clinicflow.patients.services import PatientData, patient_create, patient_merge, patient_update
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario


def _facts(org: Organization) -> tuple[list, list, list]:
    days = sorted(DayFact.objects.for_org(org).values_list("branch_id", "day", *COUNTS), key=str)
    days = [d for d in days if any(d[2:])]
    rev = sorted(
        RevenueFact.objects.for_org(org).values_list(
            "branch_id", "day", "currency", "doctor_id", "service_id", "first", "amount", "payments"
        ),
        key=str,
    )
    return days, rev, owner_facts_snapshot(org)  # and the channel and cohort facts (#17)


def _done(org: Organization, n: int) -> list[Appointment]:
    return list(
        Appointment.objects.for_org(org)
        .filter(status=AppointmentStatus.DONE)
        .select_related("patient", "branch", "doctor", "service")
        .order_by("start_at")[: n * 7 : 7]
    )


@pytest.mark.django_db
def test_every_user_change_applied_incrementally_equals_a_full_rebuild(org: Organization) -> None:
    simulate_org(org=org, scenario=load_scenario(overrides=SCENARIO), seed=11)
    rebuild(org)
    FactsChange.objects.for_org(org).delete()  # the simulator writes in bulk: nothing recorded
    before = _facts(org)
    a = _done(org, 9)
    # a visit marked a no-show by mistake is found done, another cancelled, a booked one arrives
    Appointment.objects.filter(pk=a[0].pk).update(status=AppointmentStatus.BOOKED)  # set up: bulk, unrecorded
    rebuild(org)
    FactsChange.objects.for_org(org).delete()
    first = Appointment.objects.get(pk=a[0].pk)
    appointment_mark(
        org=org, actor=None, appointment=first, status="no_show", at=first.start_at + dt.timedelta(hours=2)
    )
    booked = (
        Appointment.objects.for_org(org).filter(status=AppointmentStatus.BOOKED).order_by("start_at").first()
    )
    assert booked is not None
    appointment_cancel(org=org, actor=None, appointment=booked, reason="ill")
    # a patient's first visit moved a week later (a plain save, as an edit form does)
    moved = a[1]
    shift = dt.timedelta(days=7)
    moved.start_at, moved.end_at, moved.busy_until = (
        moved.start_at + shift,
        moved.end_at + shift,
        moved.busy_until + shift,
    )
    moved.save()
    # a booked appointment deleted (booked in error)
    gone = (
        Appointment.objects.for_org(org)
        .filter(status=AppointmentStatus.BOOKED)
        .exclude(pk=booked.pk)
        .exclude(pk__in=Payment.objects.for_org(org).exclude(appointment=None).values("appointment_id"))
        .order_by("start_at")
        .first()
    )
    assert gone is not None
    gone.delete()
    # a payment and a refund recorded
    pay = payment_record(
        org=org,
        actor=None,
        patient=a[3].patient,
        branch=a[3].branch,
        amount=Money(Decimal("1500.00"), a[3].currency),
        method="card",
        appointment=a[3],
        paid_at=a[3].start_at + dt.timedelta(hours=1),
    )
    payment_record(
        org=org,
        actor=None,
        patient=a[4].patient,
        branch=a[4].branch,
        amount=Money(Decimal("700.00"), a[4].currency),
        method="card",
        appointment=a[4],
        kind=PaymentKind.REFUND,
        paid_at=a[4].start_at + dt.timedelta(days=2),
    )
    # a payment taken back (payments are never deleted once the ledger holds them: a full refund)
    undone = Payment.objects.for_org(org).filter(appointment=a[5]).first()
    assert undone is not None
    payment_record(
        org=org,
        actor=None,
        patient=a[5].patient,
        branch=undone.branch,
        amount=Money(undone.amount, undone.currency),
        method=undone.method,
        appointment=a[5],
        kind=PaymentKind.REFUND,
        paid_at=undone.paid_at + dt.timedelta(days=1),
    )
    assert pay.pk
    # a new patient books and arrives (a copy of a slot two days after the last visit)
    newcomer = patient_create(
        org=org, actor=None, data=PatientData(last_name="New", first_name="Comer", source=Source.REFERRAL)
    )
    template = a[6]
    new = Appointment.objects.create(
        organization=org,
        branch=template.branch,
        patient=newcomer,
        service=template.service,
        doctor=template.doctor,
        start_at=template.start_at + dt.timedelta(days=2, minutes=3),
        end_at=template.end_at + dt.timedelta(days=2, minutes=3),
        busy_until=template.busy_until + dt.timedelta(days=2, minutes=3),
        price=template.price,
        currency=template.currency,
        is_first_visit=True,
    )
    appointment_mark(org=org, actor=None, appointment=new, status="arrived", at=new.start_at)
    # a patient's source corrected to a referral; two cards of one person merged
    patient_update(
        org=org, actor=None, patient=a[7].patient, data=PatientData(source=Source.REFERRAL, given={"source"})
    )
    # a first patient's birth date and sex corrected (the patient profile's age band and sex)
    fixed = a[2].patient
    patient_update(
        org=org,
        actor=None,
        patient=fixed,
        data=PatientData(
            sex="M" if fixed.sex == "F" else "F", birth_date=dt.date(1950, 1, 2), given={"sex", "birth_date"}
        ),
    )
    dup = patient_create(org=org, actor=None, data=PatientData(last_name="Dup", first_name="Licate"))
    t = a[8]
    early = dt.timedelta(days=-20, minutes=7)  # the duplicate's visit is earlier than the kept card's first
    Appointment.objects.create(
        organization=org,
        branch=t.branch,
        patient=dup,
        service=t.service,
        doctor=t.doctor,
        start_at=a[7].start_at + early,
        end_at=a[7].end_at + early,
        busy_until=a[7].busy_until + early,
        price=t.price,
        currency=t.currency,
        status=AppointmentStatus.DONE,
    )
    patient_merge(org=org, actor=None, keep=Patient.objects.get(pk=a[7].patient_id), merge=dup)
    # a satisfied answer (result above the expectation) to a survey
    survey = Survey.objects.create(
        organization=org,
        appointment=new,
        patient=newcomer,
        doctor=new.doctor,
        branch=new.branch,
        kind=SurveyKind.AFTER_VISIT,
        token_hash=hashlib.sha256(b"ow-test").hexdigest(),
        expires_at=new.start_at + dt.timedelta(days=30),
    )
    SurveyAnswer.objects.create(
        organization=org,
        survey=survey,
        patient=newcomer,
        doctor=new.doctor,
        branch=new.branch,
        nps=6,
        csat=4,
        result=8,
        expectation=7,
        answered_at=new.end_at + dt.timedelta(days=1),
    )
    # a call and a lead come in
    Call.objects.create(
        organization=org,
        provider="generic",
        provider_call_id="ow-1",
        branch=a[0].branch,
        started_at=a[0].start_at,
        status=CallStatus.MISSED,
        caller_e164="+79990000001",
        is_unique=True,
    )
    Lead.objects.create(organization=org, branch=a[0].branch, created_at=a[0].start_at)
    # a call of the newcomer before the first visit: their first visit is credited to its channel
    Call.objects.create(
        organization=org,
        provider="generic",
        provider_call_id="ow-2",
        branch=new.branch,
        patient=newcomer,
        channel=Channel.objects.for_org(org).exclude(code="direct").first(),
        started_at=new.start_at - dt.timedelta(days=1),
        status=CallStatus.ANSWERED,
        caller_e164="+79990000002",
        is_unique=True,
    )
    assert FactsChange.objects.for_org(org).count() >= 12
    out = apply_recorded_changes()
    assert "changes applied" in out and not FactsChange.objects.for_org(org).exists()
    incremental = _facts(org)
    assert incremental != before  # the changes did change the facts
    rebuild(org)
    rebuilt = _facts(org)
    assert set(rebuilt[0]) ^ set(incremental[0]) == set()
    assert set(rebuilt[1]) ^ set(incremental[1]) == set()
    assert set(rebuilt[2]) ^ set(incremental[2]) == set()
    assert rebuilt == incremental
    assert apply_changes(org).changes == 0


def _everything(org: Organization) -> tuple[list, list, list, list, list]:
    """The day, revenue, channel and cohort facts, the capacity facts and the first visits' rows."""
    cap = CapacityFact.objects.for_org(org).values_list(
        "branch_id", "day", "hour", "doctor_id", "room_id", "available_seconds", "booked_seconds"
    )
    visits = FirstVisitFact.objects.for_org(org).values_list(
        "patient_id", "branch_id", "day", "booked", "arrived", *FUNNEL
    )
    return (
        *_facts(org),
        sorted(((*r[:5], round(r[5], 3), round(r[6], 3)) for r in cap), key=str),
        sorted(visits, key=str),
    )


def _applied_equals_rebuilt(
    org: Organization, before: Any, read: Callable[[Organization], Any] = _everything
) -> Any:
    """Apply the recorded changes; the facts (``read``) changed and equal a full rebuild's; returns them."""
    while apply_changes(org).changes:
        pass
    incremental = read(org)
    assert incremental != before
    rebuild(org)
    assert read(org) == incremental
    return incremental


@pytest.mark.django_db
def test_a_doctors_link_to_a_branch_removed_and_made_reaches_the_load(built: Organization) -> None:
    org = built
    before = _everything(org)
    link = DoctorBranch.objects.for_org(org).order_by("doctor_id", "branch_id").first()
    assert link is not None
    doctor, branch = link.doctor_id, link.branch_id
    link.delete()  # the doctor no longer works there: no working windows, no load
    kinds = list(FactsChange.objects.for_org(org).values_list("was_status", "branch_id"))
    assert kinds == [(SPAN, branch)]
    after = _applied_equals_rebuilt(org, before)
    DoctorBranch.objects.create(organization=org, doctor_id=doctor, branch_id=branch)  # back again
    assert _applied_equals_rebuilt(org, after) == before


@pytest.mark.django_db
def test_a_room_deactivated_and_activated_reaches_the_capacity_facts(built: Organization) -> None:
    org = built
    before = _everything(org)
    room = Room.objects.for_org(org).filter(is_active=True).order_by("name").first()
    assert room is not None
    room.name = room.name + " renamed"
    room.save()  # nothing the facts count
    assert not FactsChange.objects.for_org(org).exists()
    room.is_active = False
    room.save()
    assert list(FactsChange.objects.for_org(org).values_list("was_status", "branch_id")) == [
        (SPAN, room.branch_id)
    ]
    after = _applied_equals_rebuilt(org, before)
    assert not CapacityFact.objects.for_org(org).filter(room_id=room.pk).exists()
    room.is_active = True
    room.save()
    assert _applied_equals_rebuilt(org, after) == before


@pytest.mark.django_db
def test_a_branchs_time_zone_changed_moves_all_its_days(built: Organization) -> None:
    org = built
    before = _everything(org)
    branch = Branch.objects.for_org(org).order_by("name").first()
    assert branch is not None
    branch.timezone = "Pacific/Honolulu"  # far west of the clinic: day visits on the eve
    branch.save()
    assert list(FactsChange.objects.for_org(org).values_list("was_status", "branch_id")) == [
        (CLOCK, branch.pk)
    ]
    moved = _applied_equals_rebuilt(org, before)
    assert moved[0] != before[0]  # the day facts of every branch's days
    if connection.vendor == "postgresql":  # the first visits counted there moved to their new local days
        assert moved[4] != before[4]
    branch.is_active = False  # a branch closed: its rows on UTC days (``facts.Clock``)
    branch.save()
    _applied_equals_rebuilt(org, moved)


@pytest.mark.django_db
def test_an_appointments_doctor_changed_reaches_the_revenue_and_load(built: Organization) -> None:
    org = built
    paid = Payment.objects.for_org(org).exclude(appointment=None).order_by("paid_at").first()
    assert paid is not None and paid.appointment_id is not None
    appt = Appointment.objects.get(pk=paid.appointment_id)
    other = (
        DoctorBranch.objects.for_org(org).filter(branch_id=appt.branch_id).exclude(doctor_id=appt.doctor_id)
    )
    link = other.order_by("doctor_id").first()
    assert link is not None
    before = _everything(org)
    appt.doctor_id = link.doctor_id  # the visit was another doctor's
    appt.save()
    assert FactsChange.objects.for_org(org).filter(patient_id=appt.patient_id).exists()
    _applied_equals_rebuilt(org, before)


@pytest.mark.django_db
def test_a_weekly_shifts_days_get_their_load_again_and_nothing_else(built: Organization) -> None:
    org = built
    hours = WorkingHours.objects.for_org(org).order_by("branch_id", "doctor_id", "weekday").first()
    assert hours is not None
    before = _everything(org)
    hours.end_time = dt.time(hours.end_time.hour - 1, hours.end_time.minute)  # a shorter weekly shift
    hours.save()
    recorded = FactsChange.objects.for_org(org)
    assert recorded.count() > 5 and not recorded.exclude(patient_id=None).exists()
    recorded.update(was_status=LOAD)  # as ``cap_changes`` marks them: a change of the load only
    revenue = sorted(RevenueFact.objects.for_org(org).values_list("pk", flat=True))
    while apply_changes(org).changes:
        pass
    # the revenue facts of those days were not written again (nothing of theirs changed) ...
    assert sorted(RevenueFact.objects.for_org(org).values_list("pk", flat=True)) == revenue
    incremental = _everything(org)
    assert incremental[0] != before[0] and incremental[3] != before[3]  # ... the load was
    assert incremental[1:3] == before[1:3]
    rebuild(org)
    assert _everything(org) == incremental


@pytest.mark.django_db
def test_a_call_or_lead_put_on_another_card_updates_both_patients(built: Organization) -> None:
    org = built
    firsts = first_happened(org)
    call = (
        Call.objects.for_org(org)
        .filter(patient_id__in=list(firsts), channel__isnull=False)
        .order_by("started_at")
        .first()
    )
    assert call is not None
    # another first patient, first seen after the call: the call becomes their first touch
    later = sorted((at, str(p)) for p, at in firsts.items() if p != call.patient_id and at > call.started_at)
    assert later
    was, now = call.patient_id, uuid.UUID(later[0][1])
    before = _everything(org)
    call.patient_id = now
    call.save()
    recorded = set(FactsChange.objects.for_org(org).values_list("patient_id", flat=True))
    assert recorded == {was, now}  # the former card's facts follow too
    _applied_equals_rebuilt(org, before)
    lead = Lead.objects.for_org(org).exclude(patient=None).order_by("created_at").first()
    assert lead is not None
    owner = lead.patient_id
    lead.patient = None  # a match dismissed: the lead is nobody's
    lead.save()
    assert set(FactsChange.objects.for_org(org).values_list("patient_id", flat=True)) == {owner, None}
    while apply_changes(org).changes:
        pass
    after = _everything(org)
    rebuild(org)
    assert _everything(org) == after  # the lead's former patient is as a rebuild has them
