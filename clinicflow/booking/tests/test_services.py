from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from clinicflow.booking import selectors, services
from clinicflow.booking.models import Appointment, AppointmentStatus, Payment, WaitlistStatus
from clinicflow.booking.tests.conftest import Clinic
from clinicflow.booking.tests.factories import local, make_doctor, make_patient, make_room, next_weekday
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.money import Money
from clinicflow.core.services import branch_create
from clinicflow.messaging.models import Message

MONDAY = 0


def book(c: Clinic, start: dt.datetime, **kw):  # type: ignore[no-untyped-def]
    args = {
        "org": c.org,
        "actor": None,
        "branch": c.branch,
        "patient": c.patient,
        "service": c.laser,
        "doctor": c.doctor,
    }
    args.update(kw)
    return services.appointment_book(start=start, **args)


def test_booking_picks_a_free_room_of_the_services_type_and_prices_it(clinic: Clinic) -> None:
    day = next_weekday(MONDAY)
    appt = book(clinic, local(clinic.branch, day, 10))
    assert appt.room == clinic.room
    assert appt.end_at - appt.start_at == dt.timedelta(minutes=60)
    assert appt.price == Decimal("12000.00") and appt.currency == "RUB"
    assert appt.status == AppointmentStatus.BOOKED
    assert appt.start_at.astimezone(clinic.branch.tz).hour == 10


def test_booking_writes_confirmation_and_reminders_to_the_outbox(clinic: Clinic) -> None:
    day = next_weekday(MONDAY)
    appt = book(clinic, local(clinic.branch, day, 10))
    keys = sorted(Message.objects.filter(organization=clinic.org).values_list("dedupe_key", flat=True))
    assert keys == sorted(
        [
            f"appt:{appt.pk}:appointment_confirmation:0:email",
            f"appt:{appt.pk}:appointment_confirmation:0:sms",
            f"appt:{appt.pk}:appointment_reminder:1440:email",
            f"appt:{appt.pk}:appointment_reminder:1440:sms",
            f"appt:{appt.pk}:appointment_reminder:120:email",
            f"appt:{appt.pk}:appointment_reminder:120:sms",
        ]
    )
    reminder = Message.objects.get(dedupe_key=f"appt:{appt.pk}:appointment_reminder:120:sms")
    assert reminder.send_after == appt.start_at - dt.timedelta(hours=2)
    confirmation = Message.objects.get(dedupe_key=f"appt:{appt.pk}:appointment_confirmation:0:email")
    assert confirmation.context["start_local"] == f"{day.isoformat()} 10:00"


def test_booking_a_taken_doctor_slot_is_refused(clinic: Clinic) -> None:
    day = next_weekday(MONDAY)
    book(clinic, local(clinic.branch, day, 10))
    other = make_patient(clinic.org, phone="+79160000001", last_name="Smirnova")
    with pytest.raises(Conflict):
        book(clinic, local(clinic.branch, day, 10, 30), patient=other, service=clinic.consult)
    assert Appointment.objects.count() == 1


def test_booking_when_the_only_room_is_taken_is_refused(clinic: Clinic) -> None:
    day = next_weekday(MONDAY)
    doctor3 = make_doctor(clinic.org, clinic.branch, [clinic.laser], "Dr Kim")
    book(clinic, local(clinic.branch, day, 10))
    with pytest.raises(Conflict) as err:
        book(clinic, local(clinic.branch, day, 10, 30), doctor=doctor3)
    assert "room" in err.value.fields
    make_room(clinic.org, clinic.branch, "Laser 2")
    appt = book(clinic, local(clinic.branch, day, 10, 30), doctor=doctor3)
    assert appt.room.name == "Laser 2"


def test_buffer_after_an_appointment_holds_the_doctor(clinic: Clinic) -> None:
    clinic.laser.buffer_minutes = 15
    clinic.laser.save()
    day = next_weekday(MONDAY)
    book(clinic, local(clinic.branch, day, 10))
    with pytest.raises(Conflict):
        book(clinic, local(clinic.branch, day, 11), service=clinic.consult)
    assert book(clinic, local(clinic.branch, day, 11, 15), service=clinic.consult).room == clinic.room2


@pytest.mark.parametrize(
    ("hour", "minute", "message"),
    [
        (8, 0, "start: is outside the doctor's working hours at this branch"),
        (17, 30, "start: is outside the doctor's working hours at this branch"),
        (13, 0, "start: falls in the doctor's break"),
    ],
)
def test_booking_outside_hours_or_in_a_break_names_the_start(
    clinic: Clinic, hour: int, minute: int, message: str
) -> None:
    services.working_week_set(
        org=clinic.org,
        actor=None,
        doctor=clinic.doctor,
        branch=clinic.branch,
        hours={wd: [(dt.time(9), dt.time(18))] for wd in range(7)},
        breaks={wd: [(dt.time(13), dt.time(14))] for wd in range(7)},
    )
    with pytest.raises(ValidationFailed) as err:
        book(clinic, local(clinic.branch, next_weekday(MONDAY), hour, minute))
    assert err.value.message == message
    assert list(err.value.fields) == ["start"]
    assert Appointment.objects.count() == 0


def test_a_day_off_exception_refuses_booking_and_an_open_exception_allows_it(clinic: Clinic) -> None:
    day = next_weekday(MONDAY)
    services.exception_add(
        org=clinic.org, actor=None, branch=clinic.branch, doctor=clinic.doctor, date=day, reason="Conference"
    )
    with pytest.raises(ValidationFailed) as err:
        book(clinic, local(clinic.branch, day, 10))
    assert err.value.message == "start: the doctor is not available then (Conference)"
    sunday = day + dt.timedelta(days=6)
    services.working_week_set(
        org=clinic.org,
        actor=None,
        doctor=clinic.doctor,
        branch=clinic.branch,
        hours={wd: [(dt.time(9), dt.time(18))] for wd in range(6)},
    )
    with pytest.raises(ValidationFailed):
        book(clinic, local(clinic.branch, sunday, 10))
    services.exception_add(
        org=clinic.org,
        actor=None,
        branch=clinic.branch,
        doctor=clinic.doctor,
        date=sunday,
        kind="open",
        start_time=dt.time(10),
        end_time=dt.time(14),
    )
    assert book(clinic, local(clinic.branch, sunday, 10)).status == "booked"


def test_a_service_the_doctor_does_not_perform_is_refused(clinic: Clinic) -> None:
    with pytest.raises(ValidationFailed) as err:
        book(clinic, local(clinic.branch, next_weekday(MONDAY), 10), doctor=clinic.doctor2)
    assert err.value.fields == {"service": ["Dr Sidorov does not perform Laser resurfacing"]}
    assert Appointment.objects.count() == 0


def test_a_past_time_is_refused(clinic: Clinic) -> None:
    with pytest.raises(ValidationFailed) as err:
        book(clinic, timezone.now() - dt.timedelta(hours=1))
    assert err.value.fields == {"start": ["is in the past"]}


def test_a_doctor_of_another_branch_is_refused(clinic: Clinic, branch2) -> None:  # type: ignore[no-untyped-def]
    make_room(clinic.org, branch2, "Laser N")
    with pytest.raises(ValidationFailed) as err:
        book(clinic, local(branch2, next_weekday(MONDAY), 10), branch=branch2)
    assert err.value.fields == {"doctor": ["Dr Petrova does not work at Novosibirsk"]}


def test_move_keeps_rules_and_reschedules_reminders(clinic: Clinic) -> None:
    day = next_weekday(MONDAY)
    appt = book(clinic, local(clinic.branch, day, 10))
    moved = services.appointment_move(
        org=clinic.org, actor=None, appointment=appt, start=local(clinic.branch, day, 15)
    )
    assert moved.start_at == local(clinic.branch, day, 15)
    live = Message.objects.filter(
        dedupe_key__startswith=f"appt:{appt.pk}:appointment_reminder:", status="queued"
    )
    assert sorted(m.send_after for m in live) == sorted(
        [moved.start_at - dt.timedelta(hours=h) for h in (24, 24, 2, 2)]
    )
    assert Message.objects.filter(kind="appointment_changed", organization=clinic.org).count() == 2
    # the old time is free again
    assert book(clinic, local(clinic.branch, day, 10), service=clinic.consult).room == clinic.room2
    with pytest.raises(ValidationFailed):
        services.appointment_move(
            org=clinic.org, actor=None, appointment=moved, start=local(clinic.branch, day, 20)
        )


def test_cancel_records_reason_and_late_flag_and_frees_the_slot(clinic: Clinic) -> None:
    soon = timezone.now().astimezone(clinic.branch.tz) + dt.timedelta(days=1)
    services.working_week_set(
        org=clinic.org,
        actor=None,
        doctor=clinic.doctor,
        branch=clinic.branch,
        hours={wd: [(dt.time(0), dt.time(23, 59))] for wd in range(7)},
    )
    early = book(clinic, local(clinic.branch, soon.date() + dt.timedelta(days=3), 10))
    early = services.appointment_cancel(org=clinic.org, actor=None, appointment=early, reason="Feels unwell")
    assert (early.status, early.cancel_reason, early.is_late_cancellation) == (
        "cancelled",
        "Feels unwell",
        False,
    )
    start = (
        (timezone.now() + dt.timedelta(hours=3)).replace(second=0, microsecond=0).astimezone(clinic.branch.tz)
    )
    if (start + dt.timedelta(hours=2)).date() != start.date():  # the working day ends at 23:59
        start = local(clinic.branch, start.date() + dt.timedelta(days=1), 0, 30)  # still under 24 h ahead
    late = book(clinic, start)
    late = services.appointment_cancel(org=clinic.org, actor=None, appointment=late, reason="Traffic")
    assert late.is_late_cancellation is True
    assert not Message.objects.filter(
        dedupe_key__startswith=f"appt:{late.pk}:appointment_reminder:", status="queued"
    ).exists()
    assert book(clinic, start).status == "booked"
    with pytest.raises(ValidationFailed):
        services.appointment_cancel(org=clinic.org, actor=None, appointment=early, reason="  ")


def test_marking_follows_the_allowed_transitions(clinic: Clinic) -> None:
    appt = book(clinic, local(clinic.branch, next_weekday(MONDAY), 10))
    with pytest.raises(ValidationFailed):
        services.appointment_mark(org=clinic.org, actor=None, appointment=appt, status="no_show")
    appt = services.appointment_mark(org=clinic.org, actor=None, appointment=appt, status="arrived")
    assert appt.arrived_at is not None
    appt = services.appointment_mark(org=clinic.org, actor=None, appointment=appt, status="done")
    with pytest.raises(Conflict):
        services.appointment_mark(org=clinic.org, actor=None, appointment=appt, status="arrived")
    assert Appointment.objects.get(pk=appt.pk).status == "done"


def test_payment_record_is_exact_and_validated(clinic: Clinic) -> None:
    appt = book(clinic, local(clinic.branch, next_weekday(MONDAY), 10))
    p = services.payment_record(
        org=clinic.org,
        actor=None,
        patient=clinic.patient,
        branch=clinic.branch,
        amount=services.payment_amount("12000.005", None, branch=clinic.branch),
        method="card",
        appointment=appt,
    )
    assert (p.amount, p.currency, p.kind) == (Decimal("12000.00"), "RUB", "payment")
    assert p.money == Money(Decimal("12000.00"), "RUB")
    with pytest.raises(ValidationFailed) as err:
        services.payment_amount(1.5, None, branch=clinic.branch)
    assert list(err.value.fields) == ["amount"]
    with pytest.raises(ValidationFailed) as err:
        services.payment_amount("10", "XYZ", branch=clinic.branch)
    assert list(err.value.fields) == ["currency"]
    with pytest.raises(ValidationFailed):
        services.payment_record(
            org=clinic.org,
            actor=None,
            patient=clinic.patient,
            branch=clinic.branch,
            amount=Money.of("-5", "RUB"),
            method="card",
        )
    assert Payment.objects.count() == 1


def test_slots_skip_taken_times_breaks_and_return_doctor_and_room(clinic: Clinic) -> None:
    day = next_weekday(MONDAY)
    services.working_week_set(
        org=clinic.org,
        actor=None,
        doctor=clinic.doctor,
        branch=clinic.branch,
        hours={0: [(dt.time(9), dt.time(14))]},
        breaks={0: [(dt.time(12), dt.time(12, 30))]},
    )
    book(clinic, local(clinic.branch, day, 9, 30))
    slots = selectors.slots_find(
        org=clinic.org, branch=clinic.branch, service=clinic.laser, date_from=day, date_to=day
    )
    starts = [s.start.astimezone(clinic.branch.tz).strftime("%H:%M") for s in slots]
    assert starts == ["10:30", "10:45", "11:00", "12:30", "12:45", "13:00"]
    assert {s.doctor_id for s in slots} == {clinic.doctor.pk}
    assert {s.room_id for s in slots} == {clinic.room.pk}


def test_slots_with_any_doctor_saturday_morning(clinic: Clinic) -> None:
    saturday = next_weekday(5)
    slots = selectors.slots_find(
        org=clinic.org,
        branch=clinic.branch,
        service=clinic.consult,
        date_from=saturday - dt.timedelta(days=5),
        date_to=saturday,
        weekdays=[5],
        time_to=dt.time(9, 15),
        limit=10,
    )
    got = [(s.start.astimezone(clinic.branch.tz).strftime("%a %H:%M"), s.doctor_id) for s in slots]
    a, b = sorted([clinic.doctor.pk, clinic.doctor2.pk], key=str)
    assert got == [("Sat 09:00", a), ("Sat 09:00", b), ("Sat 09:15", a), ("Sat 09:15", b)]


def test_dst_change_keeps_local_wall_clock(org, users) -> None:  # type: ignore[no-untyped-def]
    berlin = branch_create(org=org, name="Berlin", slug="berlin", timezone="Europe/Berlin", country="DE")
    from clinicflow.booking.tests.factories import make_service

    svc = make_service(org, room_type="treatment")
    make_room(org, berlin, "T1", room_type="treatment")
    doc = make_doctor(org, berlin, [svc], "Dr Weber")
    patient = make_patient(org, phone="+4915112345678", email="p@example.org")
    # EU summer time starts on the last Sunday of March: find the next one in the future.
    year = dt.date.today().year + (1 if dt.date.today() >= dt.date(dt.date.today().year, 3, 20) else 0)
    last_sunday = max(dt.date(year, 3, d) for d in range(25, 32) if dt.date(year, 3, d).weekday() == 6)
    before, after = last_sunday - dt.timedelta(days=1), last_sunday + dt.timedelta(days=1)
    a1 = services.appointment_book(
        org=org,
        actor=None,
        branch=berlin,
        patient=patient,
        service=svc,
        doctor=doc,
        start=local(berlin, before, 10),
    )
    a2 = services.appointment_book(
        org=org,
        actor=None,
        branch=berlin,
        patient=patient,
        service=svc,
        doctor=doc,
        start=local(berlin, after, 10),
    )
    assert a1.start_at.astimezone(dt.UTC).hour == 9  # CET, UTC+1
    assert a2.start_at.astimezone(dt.UTC).hour == 8  # CEST, UTC+2
    # staff in Moscow or Shanghai see the branch's wall clock in the calendar (branch tz), the patient too
    ctx = services.message_context(selectors.appointment_get(org=org, appointment_id=a2.pk))
    assert ctx["start_local"] == f"{after.isoformat()} 10:00"
    slots = selectors.slots_find(
        org=org, branch=berlin, service=svc, date_from=before, date_to=after, limit=None
    )
    firsts = {}
    for s in slots:
        firsts.setdefault(
            s.start.astimezone(berlin.tz).date(), s.start.astimezone(berlin.tz).strftime("%H:%M")
        )
    assert firsts == {before: "09:00", last_sunday: "09:00", after: "09:00"}
    assert all(
        s.start.astimezone(berlin.tz).strftime("%H:%M") != "10:00"
        for s in slots
        if s.start.astimezone(berlin.tz).date() in (before, after)
    )


def test_waitlist_gets_offered_a_slot_freed_by_cancellation(clinic: Clinic) -> None:
    day = next_weekday(MONDAY)
    appt = book(clinic, local(clinic.branch, day, 10))
    waiting = make_patient(clinic.org, phone="+79160000002", last_name="Orlova")
    entry = services.waitlist_add(
        org=clinic.org,
        actor=None,
        branch=clinic.branch,
        patient=waiting,
        service=clinic.laser,
        date_from=day,
        date_to=day,
        time_from=dt.time(9, 30),
        time_to=dt.time(11),
    )
    services.appointment_cancel(org=clinic.org, actor=None, appointment=appt, reason="Ill")
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.OFFERED
    assert entry.offered_start == appt.start_at
    assert entry.offered_doctor_id == clinic.doctor.pk


def test_booking_messages_are_not_to_be_sent_after_the_appointment_starts(clinic: Clinic) -> None:
    appt = book(clinic, local(clinic.branch, next_weekday(MONDAY), 10))
    deadlines = set(Message.objects.filter(organization=clinic.org).values_list("kind", "not_after"))
    assert deadlines == {
        ("appointment_confirmation", appt.start_at),
        ("appointment_reminder", appt.start_at),
    }


def test_cancelling_an_appointment_cancels_its_unsent_confirmation(clinic: Clinic) -> None:
    appt = book(clinic, local(clinic.branch, next_weekday(MONDAY), 10))
    services.appointment_cancel(org=clinic.org, actor=None, appointment=appt, reason="Feels unwell")
    by_kind = {
        (m.kind, m.channel): (m.status, m.last_error) for m in Message.objects.filter(organization=clinic.org)
    }
    assert by_kind[("appointment_confirmation", "sms")] == ("cancelled", "cancelled by the application")
    assert by_kind[("appointment_confirmation", "email")] == ("cancelled", "cancelled by the application")
    assert by_kind[("appointment_cancelled", "sms")] == ("queued", "")
