"""Department scorecards benchmark (issue #17): the ``mid`` scenario (14 months, 1.4x demand, seed 7)
simulated into a scratch PostgreSQL database (``BENCH_DB``, default ``cf_scorecards_bench``; made and
migrated by ``_common.setup_django``), then the scorecards over the last 90 days for the chain and
for its first branch — each is three periods (this one, the previous and the one before it, for the
trend) of every department's parts. ``BENCH_DEMAND`` multiplies the clinic's demand (the scenario's
1.4 by default) for a busier clinic; ``BENCH_MONTHS`` (default 14) its months.

    .venv/bin/python bench/run.py scorecards

Prints ``BENCH scorecards_ms`` (the chain's scorecards, median of 5 runs after a warm-up),
``BENCH scorecards_branch_ms`` and the anchor: the same three periods' unique calls, the one table
the front desk's parts read, counted straight from the raw table by one SQL statement
(``scorecards / raw SQL``). It also prints how long the per-report reads the scorecards used before
(``scorecards_reference``, the equality test's reference) take on the same data, and checks that
both give the same values. ``BENCH_KEEP=1`` keeps the database, ``BENCH_REUSE=1`` reuses a kept one."""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _common import setup_django  # noqa: E402

DB_NAME = os.environ.get("BENCH_DB", "cf_scorecards_bench")
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
END = dt.date(2026, 6, 30)
DAYS = 90
RAW_CALLS = """
SELECT COUNT(*), COUNT(DISTINCT administrator_id) FROM acquisition_call
WHERE organization_id = %(org)s AND is_unique AND administrator_id IS NOT NULL
  AND started_at >= %(start)s AND started_at < %(end)s
"""


def timed(fn: Callable[[], Any], runs: int = 6) -> float:
    timings = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - t) * 1000)
    return statistics.median(timings[1:])


def build_org() -> Any:
    from clinicflow.core.services import organization_create
    from clinicflow.simulator.runner import simulate_org
    from clinicflow.simulator.scenario import load_scenario

    months = int(os.environ.get("BENCH_MONTHS", "14"))
    org = organization_create(name="Bench Mid", slug="mid", country="RU", currency="RUB")
    t = time.perf_counter()
    clinic = {"months": months, "end_date": END.isoformat()}
    if os.environ.get("BENCH_DEMAND"):
        clinic["demand_factor"] = float(os.environ["BENCH_DEMAND"])
    scenario = load_scenario("mid", overrides={"clinic": clinic})
    simulate_org(org=org, scenario=scenario, seed=7)
    print(f"simulated mid {clinic}: {time.perf_counter() - t:.0f} s", flush=True)
    return org


def main() -> int:
    reuse = os.environ.get("BENCH_REUSE") == "1"
    if reuse:
        os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
    else:
        setup_django("postgres", DB_NAME)
    os.environ["DEBUG"] = "0"
    from django.db import connection

    from clinicflow.acquisition.models import Call
    from clinicflow.analytics.models import DayFact
    from clinicflow.analytics.owner.scorecards import part_values, scorecards
    from clinicflow.analytics.tests.scorecards_reference import reference_part_values
    from clinicflow.booking.models import Appointment
    from clinicflow.core.models import Organization
    from clinicflow.core.selectors import branch_list

    found = Organization.objects.filter(slug="mid").first() if reuse else None
    org = found if found is not None else build_org()
    if not DayFact.objects.for_org(org).exists():
        from clinicflow.analytics.owner.facts import rebuild

        t = time.perf_counter()
        rebuild(org)
        print(f"daily facts rebuilt in {time.perf_counter() - t:.0f} s", flush=True)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(
        f"scale: appointments={Appointment.objects.for_org(org).count()} "
        f"calls={Call.objects.for_org(org).count()}; the scorecards over {DAYS} days to {END}"
    )
    d0 = END - dt.timedelta(days=DAYS - 1)
    branch = branch_list(org=org)[0]
    chain = timed(lambda: scorecards(org=org, date_from=d0, date_to=END, branch=None))
    print(f"BENCH scorecards_ms {chain:.0f} ms")
    one = timed(lambda: scorecards(org=org, date_from=d0, date_to=END, branch=branch))
    print(f"BENCH scorecards_branch_ms {one:.0f} ms")
    start = dt.datetime.combine(d0 - dt.timedelta(days=2 * DAYS), dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(END + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)

    def raw() -> None:
        with connection.cursor() as cur:
            cur.execute(RAW_CALLS, {"org": org.pk, "start": start, "end": end})
            cur.fetchall()

    anchor = timed(raw)
    print(
        f"anchor: raw SQL unique calls of the three periods {anchor:.0f} ms; scorecards / raw SQL {chain / anchor:.2f}"
    )
    periods = [(d0 - dt.timedelta(days=DAYS * k), END - dt.timedelta(days=DAYS * k)) for k in range(3)]

    def reference() -> None:
        for a, b in periods:
            reference_part_values(org=org, date_from=a, date_to=b, branch=None)

    before = timed(reference, runs=3)
    print(f"scorecards_reference (the per-report reads) {before:.0f} ms; speed-up {before / chain:.1f}x")
    for b in (None, branch):
        for a, z in periods:
            new = part_values(org=org, date_from=a, date_to=z, branch=b)
            old = reference_part_values(org=org, date_from=a, date_to=z, branch=b)
            if new != old:
                print(f"MISMATCH {a}..{z} branch={b}: {new} != {old}")
                return 1
    print("values equal to the reference: yes")
    connection.close()
    if os.environ.get("BENCH_KEEP") != "1":
        import psycopg

        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
