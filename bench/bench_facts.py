"""The daily facts at chain scale (issue #17): the full rebuild and one day's events applied incrementally
on a copy of the simulated ``chain-1m`` database (1,000,000 patients, 60 months, 20 branches).

    createdb -T cf_chain1m_tpl cf_facts_chain   # a copy (never the template itself)
    BENCH_DB=cf_facts_chain .venv/bin/python bench/bench_facts.py

Steps: the migrations the copy lacks; the last full day's visits that happened or were missed set back
to booked in bulk (the morning's state, written before the rebuild so the facts start current); the
full rebuild with a progress line per chunk (``BENCH facts_rebuild_s``); then the day's events as the
front desk records them — each visit marked arrived, then done (or a no-show), every save recording a
change — applied by the worker's job until none is left (``BENCH facts_incremental_s``). Anchor: one
raw ``SELECT branch, local day, COUNT(*) ... GROUP BY`` of every appointment (``rebuild / raw SQL``).
The channel and cohort facts built by the same calls (``fact_hooks``) are timed apart and included.
``BENCH_VERIFY=1`` rebuilds again after the events and checks the incremental facts equal it."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DB", "cf_facts_chain")
os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
DAY = dt.date(2026, 11, 29)  # the last full day of chain-1m (its end date is 2026-11-30)

ANCHOR = """
SELECT a.branch_id, (a.start_at AT TIME ZONE b.timezone)::date, COUNT(*)
FROM booking_appointment a JOIN core_branch b ON b.id = a.branch_id
WHERE a.organization_id = %s GROUP BY 1, 2
"""


def _timed_hooks() -> dict[str, float]:
    """Time the channel and cohort facts' calls (another part's facts, built by the same calls)."""
    from clinicflow.analytics.owner import fact_hooks

    spent = {"rebuild": 0.0, "incremental": 0.0}
    original_rebuild, original_build = fact_hooks.rebuild_owner_facts, fact_hooks.build_owner_facts

    def rebuild_hook(*args: Any, **kw: Any) -> int:
        t = time.perf_counter()
        try:
            return original_rebuild(*args, **kw)
        finally:
            spent["rebuild"] += time.perf_counter() - t

    def build_hook(*args: Any, **kw: Any) -> int:
        t = time.perf_counter()
        try:
            return original_build(*args, **kw)
        finally:
            spent["incremental"] += time.perf_counter() - t

    fact_hooks.rebuild_owner_facts = rebuild_hook
    fact_hooks.build_owner_facts = build_hook
    return spent


def _simulate() -> Any:
    """No chain database: ``chain-1m`` scaled to ``BENCH_PATIENTS`` patients over ``BENCH_MONTHS``."""
    from clinicflow.core.models import Region
    from clinicflow.core.services import organization_create
    from clinicflow.simulator.runner import simulate_org
    from clinicflow.simulator.scenario import load_scenario

    months, patients = (
        int(os.environ.get("BENCH_MONTHS", "6")),
        int(os.environ.get("BENCH_PATIENTS", "10000")),
    )
    org = organization_create(
        name="Bench Chain", slug="chain", country="RU", currency="RUB", data_region=Region.RU
    )
    overrides = {"clinic": {"months": months, "patients": patients, "end_date": "2026-11-30"}}
    t = time.perf_counter()
    simulate_org(org=org, scenario=load_scenario("chain-1m", overrides=overrides), seed=5)
    print(
        f"simulated chain-1m scaled: {months} months, {patients} patients in {time.perf_counter() - t:.0f} s"
    )
    return org


def _database_exists() -> bool:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone() is not None


def main() -> int:
    if not _database_exists():
        print(
            f"facts: no database {DB_NAME!r} — this benchmark runs on a copy of a simulated chain-1m "
            "database (see the module's docstring; `bench_owner` measures the same at a smaller scale)"
        )
        return 0
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from clinicflow.analytics.models import DayFact, FactsChange, RevenueFact
    from clinicflow.analytics.owner.changes import apply_changes
    from clinicflow.analytics.owner.facts import COUNTS, rebuild
    from clinicflow.booking.models import Appointment
    from clinicflow.core.models import Organization

    found = Organization.objects.filter(slug=os.environ.get("BENCH_ORG", "chain")).first()
    org = found if found is not None else _simulate()
    hooks = _timed_hooks()
    start = dt.datetime.combine(DAY, dt.time.min, tzinfo=dt.UTC)
    day_appts = Appointment.objects.for_org(org).filter(
        start_at__gte=start,
        start_at__lt=start + dt.timedelta(days=1),
        status__in=("arrived", "done", "no_show"),
    )
    final = dict(day_appts.values_list("pk", "status"))
    Appointment.objects.filter(pk__in=list(final)).update(status="booked")  # the morning: all booked
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
        cur.execute("SELECT COUNT(*) FROM booking_appointment WHERE organization_id = %s", [org.pk])
        appts = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM patients_patient WHERE organization_id = %s", [org.pk])
        patients = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM booking_payment WHERE organization_id = %s", [org.pk])
        payments = cur.fetchone()[0]
    print(f"scale: {patients:,} patients, {appts:,} appointments, {payments:,} payments")
    t = time.perf_counter()
    stats = rebuild(
        org, progress=lambda line: print(f"  {line} [{time.perf_counter() - t:.1f} s]", flush=True)
    )
    rebuild_s = time.perf_counter() - t
    print(f"rebuild: {stats.summary()}; channel and cohort facts' share {hooks['rebuild']:.1f} s")
    print(f"BENCH facts_rebuild_s {rebuild_s:.1f} s")
    timings = []
    for _ in range(3):
        t = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(ANCHOR, [org.pk])
            cur.fetchall()
        timings.append(time.perf_counter() - t)
    anchor = min(timings)
    print(
        f"anchor: raw SQL appointments per branch-day over all rows {anchor:.2f} s; rebuild / raw SQL {rebuild_s / anchor:.1f}"
    )

    FactsChange.objects.for_org(org).delete()
    hooks["incremental"] = 0.0  # the rebuild's hook calls the same function
    t = time.perf_counter()
    saves = 0
    for a in Appointment.objects.for_org(org).filter(pk__in=list(final)).order_by("start_at"):
        steps = ["arrived", "done"] if final[a.pk] == "done" else [final[a.pk]]
        for status in steps:
            a.status = status
            a.save(update_fields=["status"])
            saves += 1
    print(f"one day ({DAY}): {len(final)} visits marked, {saves} saves in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    changes = days = 0
    while True:
        applied = apply_changes(org)
        if not applied.changes:
            break
        changes += applied.changes
        days += applied.days
    incremental_s = time.perf_counter() - t
    print(
        f"applied {changes} changes, {days} days and (branch, day) pairs written; channel and cohort facts' share {hooks['incremental']:.2f} s"
    )
    print(f"BENCH facts_incremental_s {incremental_s:.2f} s")
    day_anchor = []
    for _ in range(3):
        t = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(
                ANCHOR.replace("GROUP BY", "AND a.start_at >= %s AND a.start_at < %s GROUP BY"),
                [org.pk, start - dt.timedelta(days=1), start + dt.timedelta(days=2)],
            )
            cur.fetchall()
        day_anchor.append(time.perf_counter() - t)
    print(
        f"anchor: raw SQL of the day's appointments per branch {min(day_anchor) * 1000:.0f} ms; incremental / raw SQL {incremental_s / min(day_anchor):.0f}"
    )
    if os.environ.get("BENCH_VERIFY") == "1":

        def facts() -> tuple[list[Any], list[Any]]:
            days = sorted(DayFact.objects.for_org(org).values_list("branch_id", "day", *COUNTS), key=str)
            rev = RevenueFact.objects.for_org(org).values_list(
                "branch_id", "day", "currency", "doctor_id", "service_id", "first", "amount", "payments"
            )
            return [r for r in days if any(r[2:])], sorted(rev, key=str)

        after = facts()
        rebuild(org)
        print(f"verify: incremental facts equal a full rebuild: {after == facts()}")
    connection.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
