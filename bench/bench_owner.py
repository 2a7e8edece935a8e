"""Owner's view benchmark (issue #17): a simulated chain ("mid" scenario, 12 months, seed 5) in a
scratch PostgreSQL database ``bench_owner``, then the daily facts' full rebuild, one day's
incremental update and the owner home over the last 30 days.

    .venv/bin/python bench/bench_owner.py

Prints ``BENCH facts_rebuild_s``, ``BENCH facts_incremental_s`` and ``BENCH owner_home_ms`` (median of
5 runs after a warm-up). Scale: the "mid" scenario over 12 months (see the printed row counts), far
below the issue's ``chain-1m`` (1,000,000 patients, 5 years); ``BENCH_MONTHS`` changes the length.
``BENCH_KEEP=1`` keeps the database."""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "bench_owner"
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def db(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def main() -> int:
    db(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    db(f"CREATE DATABASE {DB_NAME}")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from clinicflow.analytics.owner.facts import rebuild, update_day
    from clinicflow.analytics.owner.home import owner_view
    from clinicflow.booking.models import Appointment, Payment
    from clinicflow.core.models import Region
    from clinicflow.core.services import organization_create
    from clinicflow.patients.models import Patient
    from clinicflow.simulator.runner import simulate_org
    from clinicflow.simulator.scenario import load_scenario

    months = int(os.environ.get("BENCH_MONTHS", "12"))
    org = organization_create(
        name="Bench Chain", slug="chain", country="RU", currency="RUB", data_region=Region.RU
    )
    result = simulate_org(
        org=org, scenario=load_scenario("mid", overrides={"clinic": {"months": months}}), seed=5
    )
    end = dt.date.fromisoformat(result.truth["end_date"])
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(
        f"scale: {months} months, patients={Patient.objects.for_org(org).count()} "
        f"appointments={Appointment.objects.for_org(org).count()} payments={Payment.objects.for_org(org).count()}"
    )
    t = time.perf_counter()
    stats = rebuild(org)
    print(f"rebuild: {stats.summary()}")
    print(f"BENCH facts_rebuild_s {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    update_day(org, end)
    print(f"BENCH facts_incremental_s {time.perf_counter() - t:.3f} s")
    timings = []
    for _ in range(6):
        t = time.perf_counter()
        owner_view(org=org, date_from=end - dt.timedelta(days=29), date_to=end, branch=None)
        timings.append((time.perf_counter() - t) * 1000)
    print(f"runs_ms={[round(x) for x in timings]}")
    print(f"BENCH owner_home_ms {statistics.median(timings[1:]):.0f} ms")
    connection.close()
    if os.environ.get("BENCH_KEEP") != "1":
        db(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
