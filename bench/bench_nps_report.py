"""NPS report benchmark: the ``nps`` report by doctor over 2 years of a 200,000-patient chain (20
branches, 60 doctors, ~300,000 answered surveys) in a scratch PostgreSQL database ``BENCH_DB_NAME``
(default ``bench_nps_report``).

The answers and their surveys are generated on the server (``INSERT … SELECT generate_series``) with
foreign-key triggers off for the load (``session_replication_role = replica``): the report reads the
answers and the doctors' names only, so the patients and appointments they point at are not made.

    .venv/bin/python bench/bench_nps_report.py

Prints ``BENCH nps_report_ms <n> ms`` (median of 5 runs after one warm-up) and the anchor: the same
aggregation written as one raw SQL statement, and the report's time over it."""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = os.environ.get("BENCH_DB_NAME", "bench_nps_report")
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
os.environ["DEBUG"] = "0"
os.environ["LOG_LEVEL"] = "WARNING"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

PATIENTS = 200_000
ANSWERS = 300_000  # ~1.5 answered surveys per patient in two years
BRANCHES, DOCTORS = 20, 60
START = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
DAYS = 730


def db(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def build() -> Any:
    from django.db import connection

    from clinicflow.booking.models import Doctor
    from clinicflow.core.models import Organization, Region
    from clinicflow.core.services import branch_create, organization_create

    org: Organization = organization_create(
        name="Chain", slug="chain", country="RU", currency="RUB", data_region=Region.RU
    )
    branches = [
        branch_create(org=org, name=f"Branch {i:02d}", slug=f"b{i:02d}", timezone="Europe/Moscow")
        for i in range(BRANCHES)
    ]
    Doctor.objects.bulk_create(
        [Doctor(organization=org, full_name=f"Doctor {i:02d}") for i in range(DOCTORS)]
    )
    doctors = list(Doctor.objects.for_org(org).order_by("full_name").values_list("pk", flat=True))
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("CREATE TEMP TABLE doc_ids(i int, id uuid)")
        cur.executemany("INSERT INTO doc_ids VALUES (%s, %s)", list(enumerate(doctors)))
        cur.execute("CREATE TEMP TABLE branch_ids(i int, id uuid)")
        cur.executemany("INSERT INTO branch_ids VALUES (%s, %s)", [(i, b.pk) for i, b in enumerate(branches)])
        cur.execute(
            """CREATE TEMP TABLE gen AS
               SELECT g, gen_random_uuid() AS survey_id, gen_random_uuid() AS answer_id,
                      gen_random_uuid() AS appt_id,
                      (SELECT id FROM doc_ids WHERE i = g %% %s) AS doctor_id,
                      (SELECT id FROM branch_ids WHERE i = (g %% %s) %% %s) AS branch_id,
                      %s::timestamptz + (random() * %s) * interval '1 day' AS at,
                      least(10, greatest(0, round(7.5 + 2.5 * (random() + random() - 1)
                            - (g %% %s) * 0.03)))::int AS nps
               FROM generate_series(1, %s) g""",
            [DOCTORS, DOCTORS, BRANCHES, START, DAYS, DOCTORS, ANSWERS],
        )
        cur.execute(
            """INSERT INTO feedback_survey (id, organization_id, appointment_id, patient_id, doctor_id,
                   branch_id, service_id, kind, token_hash, language, created_at, sent_at, expires_at,
                   answered_at)
               SELECT survey_id, %s, appt_id, md5((g %% %s)::text)::uuid, doctor_id, branch_id, NULL,
                   'after_visit', md5(survey_id::text) || md5(appt_id::text), 'ru', at - interval '1 hour',
                   at - interval '1 hour', at + interval '13 days', at
               FROM gen""",
            [org.pk, PATIENTS],
        )
        cur.execute(
            """INSERT INTO feedback_surveyanswer (id, organization_id, survey_id, patient_id, doctor_id,
                   branch_id, service_id, consultant_id, nps, csat, result, expectation, tags, comment,
                   answered_at)
               SELECT answer_id, %s, survey_id, md5((g %% %s)::text)::uuid, doctor_id, branch_id, NULL,
                   doctor_id, nps, least(5, greatest(1, round(nps / 2.0)))::int, nps, 7, '[]', '', at
               FROM gen""",
            [org.pk, PATIENTS],
        )
        cur.execute("SET session_replication_role = origin")
    connection.close()
    with __import__("psycopg").connect(f"{PG}/{DB_NAME}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # the visibility map: the covering index answers without the table
    print(f"generated {ANSWERS} answers in {time.perf_counter() - t:.1f} s")
    return org


RAW = """SELECT a.doctor_id, d.full_name, count(*), count(*) FILTER (WHERE a.nps >= 9),
       count(*) FILTER (WHERE a.nps <= 6), sum(a.csat), sum(a.csat * a.csat)
FROM feedback_surveyanswer a JOIN booking_doctor d ON d.id = a.doctor_id
WHERE a.organization_id = %s AND a.answered_at >= %s AND a.answered_at < %s
GROUP BY a.doctor_id, d.full_name ORDER BY d.full_name"""


def main() -> int:
    reuse = os.environ.get("BENCH_REUSE") == "1"
    if not reuse:
        db(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        db(f"CREATE DATABASE {DB_NAME}")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from clinicflow.analytics.reports.feedback import satisfaction_rows
    from clinicflow.core.models import Organization

    found = Organization.objects.filter(slug="chain").first() if reuse else None
    org = found if found is not None else build()
    d0, d1 = START.date(), (START + dt.timedelta(days=DAYS - 1)).date()
    timings, raw = [], []
    for _ in range(6):
        t = time.perf_counter()
        rows = satisfaction_rows(org=org, date_from=d0, date_to=d1, group="doctor")
        timings.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(RAW, [org.pk, START, START + dt.timedelta(days=DAYS)])
            anchor = cur.fetchall()
        raw.append((time.perf_counter() - t) * 1000)
    n = sum(r["answers"] for r in rows)
    assert len(rows) == DOCTORS == len(anchor) and n == sum(a[2] for a in anchor)
    report_ms, raw_ms = statistics.median(timings[1:]), statistics.median(raw[1:])
    print(
        f"rows={len(rows)} answers={n} runs_ms={[round(x) for x in timings]} raw_ms={[round(x) for x in raw]}"
    )
    print(f"anchor: raw SQL {raw_ms:.0f} ms; report / raw = {report_ms / raw_ms:.2f}")
    print(f"BENCH nps_report_ms {report_ms:.0f} ms")
    connection.close()
    if os.environ.get("BENCH_KEEP") != "1":
        db(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
