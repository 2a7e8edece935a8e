"""Generating the day's follow-up tasks for a 200,000-patient chain (issue #15, target < 10 s).

Seeds one organisation on PostgreSQL (``BENCH_DB=sqlite`` for a quick look) with 10 branches in
several time zones, 24 services of every category with their default follow-up plans, 60 doctors,
``BENCH_PATIENTS`` (200,000) patients, one done visit each in the past two years (history the job must
not touch) and ``BENCH_TODAY`` (3,000) visits done today. Times the periodic job
``clinicflow.care.jobs.followups_generate`` (every organisation, every done visit of the last three
days without tasks: one scan, one read of the plans, bulk inserts) and then its second run (nothing
left: idempotent). Prints BENCH followup_generation_s (the first run), the tasks made, the second
run's seconds, and the anchor: one raw SQL statement that selects the same (visit, plan step, due
time) rows into a temporary table (PostgreSQL only), with the job's time over it. The scratch
database is ``BENCH_DB_NAME`` (default ``cf_care_bench``).
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import setup_django

DATABASE = os.environ.get("BENCH_DB", "postgres")
DB_NAME = os.environ.get("BENCH_DB_NAME", "cf_care_bench")
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "200000"))
TODAY = int(os.environ.get("BENCH_TODAY", "3000"))
ZONES = ("Europe/Moscow", "Europe/Moscow", "Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg",
         "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Europe/Kaliningrad", "Asia/Vladivostok", "Europe/Moscow")  # fmt: skip
CATEGORIES = ("botulinum", "fillers", "injectables", "laser", "peels", "body", "surgery", "dental")


def seed() -> int:
    from django.db import transaction
    from django.utils import timezone

    from clinicflow.booking.models import Appointment, Doctor
    from clinicflow.care.services.plans import plans_ensure_defaults
    from clinicflow.catalogue.models import RoomType, Service
    from clinicflow.core.services import branch_create, organization_create
    from clinicflow.patients.models import Patient

    rng = random.Random(15)
    started = time.perf_counter()
    org = organization_create(name="Chain", slug="chain", country="RU", currency="RUB")
    branches = [
        branch_create(org=org, name=f"Branch {i}", slug=f"b{i}", timezone=zone)
        for i, zone in enumerate(ZONES)
    ]
    services = Service.objects.bulk_create(
        [
            Service(
                organization=org, code=f"s{i}", name=f"Service {i}", category=CATEGORIES[i % len(CATEGORIES)],
                duration_minutes=60, room_type=RoomType.TREATMENT, price=Decimal("9000.00"), currency="RUB",
                course_sessions=4 if i % 5 == 0 else 1, course_interval_days=21 if i % 5 == 0 else 0,
            )
            for i in range(24)
        ]
    )  # fmt: skip
    plans_ensure_defaults(org=org)
    doctors = Doctor.objects.bulk_create([Doctor(organization=org, full_name=f"Dr {i}") for i in range(60)])
    now = timezone.now()
    with transaction.atomic():
        patients = Patient.objects.bulk_create(
            [
                Patient(organization=org, branch=branches[i % 10], last_name=f"L{i}", first_name=f"F{i}",
                        search_name=f"l{i} f{i}")
                for i in range(PATIENTS)
            ],
            batch_size=5000,
        )  # fmt: skip
    print(f"   {PATIENTS} patients in {time.perf_counter() - started:.1f} s", flush=True)

    def visit(i: int, start: dt.datetime) -> Appointment:
        s, b = services[i % len(services)], branches[i % 10]
        return Appointment(
            organization=org, branch=b, patient=patients[i], service=s, doctor=doctors[i % 60],
            start_at=start, end_at=start + dt.timedelta(hours=1), busy_until=start + dt.timedelta(hours=1),
            status="done", price=s.price, currency="RUB", created_at=start, updated_at=start,
        )  # fmt: skip

    batch: list[Appointment] = []
    for i in range(PATIENTS):
        batch.append(visit(i, now - dt.timedelta(days=rng.randint(5, 730), minutes=rng.randint(0, 600))))
        if len(batch) == 10000:
            Appointment.objects.bulk_create(batch)
            batch = []
    batch += [
        visit(rng.randrange(PATIENTS), now - dt.timedelta(minutes=rng.randint(60, 600))) for _ in range(TODAY)
    ]
    Appointment.objects.bulk_create(batch)
    print(f"   seeded in {time.perf_counter() - started:.1f} s", flush=True)
    return TODAY


def main() -> None:
    url = setup_django(DATABASE, DB_NAME)
    print(f"   database: {url.split('@')[-1]}", flush=True)
    seed()
    from django.db import connection

    from clinicflow.care import jobs

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    t = time.perf_counter()
    first = jobs.followups_generate()
    elapsed = time.perf_counter() - t
    t = time.perf_counter()
    second = jobs.followups_generate()
    again = time.perf_counter() - t
    tasks = int(first.split("tasks=")[1])
    print(f"   first run: {first}; second run: {second}", flush=True)
    print(f"BENCH followup_generation_s {elapsed:.2f} s", flush=True)
    print(f"BENCH followup_generation_tasks {tasks} tasks", flush=True)
    print(f"BENCH followup_generation_rerun_s {again:.2f} s", flush=True)
    if connection.vendor == "postgresql":
        anchor = raw_anchor()
        print(f"BENCH followup_generation_raw_sql_s {anchor:.2f} s", flush=True)
        print(f"BENCH followup_generation_vs_raw_sql {elapsed / anchor:.1f} x", flush=True)


RAW = """CREATE TEMP TABLE anchor_tasks AS
SELECT a.id AS appointment_id, a.patient_id, st.id AS step_id,
       a.end_at + st.day_offset * interval '1 day' + st.months * interval '1 month' AS due_at
FROM booking_appointment a
JOIN care_followupplan p ON p.organization_id = a.organization_id AND p.service_id = a.service_id
                          AND p.is_active
JOIN care_followupstep st ON st.organization_id = p.organization_id AND st.plan_id = p.id
WHERE a.status = 'done' AND a.end_at >= now() - interval '3 days'"""


def raw_anchor() -> float:
    """Seconds of one raw SQL statement making the same (visit, step, due) rows, unindexed, unlogged."""
    from django.db import connection

    with connection.cursor() as cur:
        t = time.perf_counter()
        cur.execute(RAW)
        elapsed = time.perf_counter() - t
        cur.execute("SELECT count(*) FROM anchor_tasks")
        print(f"   raw SQL anchor: {cur.fetchone()[0]} rows", flush=True)
        cur.execute("DROP TABLE anchor_tasks")
    return elapsed


if __name__ == "__main__":
    main()
