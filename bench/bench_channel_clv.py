"""The channel report with its predicted-lifetime columns, and the patient profile, on the channel
report benchmark's data set (12 months of a 20-branch chain, ``bench_channel_report.build``) plus a
stored lifetime-value prediction for every patient, in the scratch PostgreSQL database ``cf_ch_bench``.

    .venv/bin/python bench/run.py channel_clv

Prints ``BENCH channel_clv_ms`` (the `channels` report over the year, lifetime columns included),
``BENCH channel_clv_anchor_ms`` (the same first-patient statement without the predictions: the report
before this change), their ratio, and ``BENCH patient_profile_ms``. Medians of 5 runs after a warm-up.
``BENCH_KEEP=1`` keeps the database, ``BENCH_REUSE=1`` reuses a kept one.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import bench_channel_report as base  # noqa: E402 - after the path is set

DB_NAME = "cf_ch_bench"
os.environ["DATABASE_URL"] = f"{base.PG}/{DB_NAME}"


def timed(fn: Callable[[], Any]) -> float:
    runs = []
    for _ in range(6):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs[1:])


def predictions(org: Any) -> int:
    from clinicflow.booking.models import Appointment
    from clinicflow.patients.models import PatientPrediction

    rng = random.Random(7)
    ids = list(Appointment.objects.for_org(org).values_list("patient_id", flat=True).distinct())
    rows = [
        PatientPrediction(
            organization=org,
            patient_id=p,
            p_alive=rng.random(),
            expected_visits=rng.random() * 3,
            expected_value=Decimal("5000.00"),
            clv=Decimal(rng.randint(0, 4_000_000)) / 100,
            currency="RUB",
            until=dt.date(2025, 12, 31),
        )
        for p in ids
    ]
    PatientPrediction.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def main() -> int:
    reuse = os.environ.get("BENCH_REUSE") == "1"
    if not reuse:
        base.db(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        base.db(f"CREATE DATABASE {DB_NAME}")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from clinicflow.analytics.reports.acquisition import channel_report
    from clinicflow.analytics.reports.acquisition.first_patients import first_patient_tallies
    from clinicflow.analytics.reports.base import ReportContext, get_report, run_report
    from clinicflow.core.models import Organization

    found = Organization.objects.filter(slug="chain").first() if reuse else None
    org = found if found is not None else base.build()
    if found is None:
        print(f"stored predictions: {predictions(org)}")
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    d0, d1 = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    start, end = dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    report = channel_report(org=org, date_from=d0, date_to=d1)
    total = report.totals() or {}
    print(
        f"rows={len(report.lines)} lifetime_value={total.get('lifetime_value')} coverage={report.coverage()}"
    )
    full = timed(lambda: channel_report(org=org, date_from=d0, date_to=d1).rows())
    anchor = timed(
        lambda: first_patient_tallies(
            org=org, start=start, end=end, branch=None, model="last_non_direct", group="channel"
        )
    )
    spec = get_report("patient_profile")
    ctx = ReportContext(
        org=org,
        user=None,
        date_from=d0,
        date_to=d1,
        branch=None,
        params={"group": "channel", "model": "last_non_direct"},
    )
    prof = timed(lambda: run_report(spec, ctx))
    print(f"BENCH channel_clv_ms {full:.0f} ms")
    print(f"BENCH channel_clv_anchor_ms {anchor:.0f} ms")
    print(f"BENCH channel_clv_ratio {full / anchor:.2f} x")
    print(f"BENCH patient_profile_ms {prof:.0f} ms")
    connection.close()
    if os.environ.get("BENCH_KEEP") != "1":
        base.db(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
