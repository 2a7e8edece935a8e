"""Many real threads booking at once on PostgreSQL: exactly one wins each contested doctor or room."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from clinicflow.booking import services
from clinicflow.booking.models import Appointment
from clinicflow.booking.tests.conftest import Clinic
from clinicflow.booking.tests.factories import local, make_doctor, make_patient, next_weekday
from clinicflow.core.errors import Conflict

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(n: int, work) -> list[str]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(n)
    results: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            work(i)
            outcome = "ok"
        except Conflict:
            outcome = "conflict"
        except Exception as exc:  # pragma: no cover - reported below
            outcome = f"error {type(exc).__name__}: {exc}"
        finally:
            connections.close_all()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_many_threads_booking_one_doctor_at_overlapping_times_one_wins(clinic: Clinic) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    day = next_weekday(0)
    patients = [make_patient(clinic.org, phone=f"+7916000{i:04d}", last_name=f"P{i}") for i in range(16)]

    def work(i: int) -> None:
        services.appointment_book(
            org=clinic.org,
            actor=None,
            branch=clinic.branch,
            patient=patients[i],
            service=clinic.laser,
            doctor=clinic.doctor,
            start=local(clinic.branch, day, 10, (i % 4) * 15),
        )

    results = _race(16, work)
    assert sorted(results) == ["conflict"] * 15 + ["ok"]
    assert Appointment.objects.filter(doctor=clinic.doctor).count() == 1


def test_many_threads_with_different_doctors_contending_for_one_room_one_wins(clinic: Clinic) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    day = next_weekday(0)
    doctors = [make_doctor(clinic.org, clinic.branch, [clinic.laser], f"Dr {i}") for i in range(12)]
    patients = [make_patient(clinic.org, phone=f"+7916100{i:04d}", last_name=f"Q{i}") for i in range(12)]

    def work(i: int) -> None:
        services.appointment_book(
            org=clinic.org,
            actor=None,
            branch=clinic.branch,
            patient=patients[i],
            service=clinic.laser,
            doctor=doctors[i],
            start=local(clinic.branch, day, 14, (i % 3) * 15),
        )

    results = _race(12, work)
    assert sorted(results) == ["conflict"] * 11 + ["ok"]
    assert Appointment.objects.filter(room=clinic.room).count() == 1


def test_the_exclusion_constraint_refuses_an_overlap_written_around_the_service(clinic: Clinic) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only")
    day = next_weekday(0)
    first = services.appointment_build(
        org=clinic.org,
        branch=clinic.branch,
        patient=clinic.patient,
        service=clinic.laser,
        doctor=clinic.doctor,
        room=clinic.room,
        start=local(clinic.branch, day, 10),
        status="booked",
    )
    first.save(force_insert=True)
    clash = services.appointment_build(
        org=clinic.org,
        branch=clinic.branch,
        patient=clinic.patient,
        service=clinic.laser,
        doctor=clinic.doctor,
        room=None,
        start=local(clinic.branch, day, 10, 30),
        status="booked",
    )
    with pytest.raises(Conflict):
        services.save_appointment(clash)
    assert Appointment.objects.count() == 1


def test_the_constraint_covers_open_appointments_and_the_service_still_counts_done_visits(
    clinic: Clinic,
) -> None:
    """Migration 0003: a done visit leaves the exclusion constraint (history is not re-checked by
    every write or bulk load), an arrived one stays in it, and booking over a done visit is still
    refused — by the service's check of every holding appointment."""
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint exists on PostgreSQL only")
    day = next_weekday(0)

    def build(hour: int, minute: int, status: str, room: bool = True) -> Appointment:
        return services.appointment_build(
            org=clinic.org,
            branch=clinic.branch,
            patient=clinic.patient,
            service=clinic.laser,
            doctor=clinic.doctor,
            room=clinic.room if room else None,
            start=local(clinic.branch, day, hour, minute),
            status=status,
        )

    build(10, 0, "done").save(force_insert=True)
    build(10, 30, "done").save(force_insert=True)  # two finished visits: the constraint ignores them
    build(14, 0, "arrived").save(force_insert=True)
    with pytest.raises(Conflict):
        services.save_appointment(build(14, 30, "booked", room=False))
    with pytest.raises(Conflict):
        services.appointment_book(
            org=clinic.org,
            actor=None,
            branch=clinic.branch,
            patient=clinic.patient,
            service=clinic.laser,
            doctor=clinic.doctor,
            start=local(clinic.branch, day, 10, 15),
        )
    assert Appointment.objects.filter(doctor=clinic.doctor).count() == 3
    with connection.cursor() as cur:
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'booking_appointment'::regclass AND contype = 'x' ORDER BY 1"
        )
        rows = cur.fetchall()
    assert [name for name, _ in rows] == ["appt_no_doctor_overlap", "appt_no_room_overlap"]
    for _, definition in rows:
        assert "'booked'" in definition and "'arrived'" in definition and "'done'" not in definition
