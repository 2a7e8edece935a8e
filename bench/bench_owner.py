"""Owner's view benchmark (issue #17): the ``chain-1m`` scenario (20 branches) scaled down to
``BENCH_MONTHS`` months (default 12) and ``BENCH_PATIENTS`` patients (default 50,000: a quarter of the
chain's 200,000 a year, to stay within ~10 minutes on two cores) in a scratch PostgreSQL database
``cf_ow_bench``; then the daily facts' full rebuild, one day's events applied incrementally, the owner
home over the last 30 days, the cohort matrix over the year and every other owner report.

    .venv/bin/python bench/run.py owner

Prints ``BENCH facts_rebuild_s``, ``BENCH facts_incremental_s``, ``BENCH owner_home_ms``,
``BENCH cohorts_ms``, ``BENCH patient_profile_ms`` and ``BENCH reports_max_ms`` (medians of 5 runs
after a warm-up; 3 for the other reports), the scale against ``chain-1m`` (1,000,000 patients, 60
months), and the anchors: the home's period's funnel counts taken straight from the raw tables by one
SQL statement (``owner_home / raw SQL``), the cohort matrix's first patients and visit months by one
SQL statement over the same year (``cohorts / raw SQL``), the raw funnel over the reports' 90 days
(``reports_max / raw SQL``), every appointment counted per branch and local day (``rebuild / raw
SQL``) and the day's appointments counted so (``incremental / raw SQL``). ``BENCH_KEEP=1`` keeps the
database, ``BENCH_REUSE=1`` reuses a kept one; ``BENCH_DB=NAME`` uses (and keeps) another database,
e.g. a copy of the full chain-1m; ``BENCH_FACTS_ONLY=1`` stops after the facts' two figures, and
``BENCH_INCREMENTAL_ONLY=1`` skips the rebuild (a kept database whose facts are built),
``BENCH_TOUCH_ALL=1`` applies them as if each save changed its patient's history (a real day's
arrivals do; the replayed saves put each status back, which changes none) and saves the day's payments
again too (a real day's arrivals pay), ``BENCH_DAY=YYYY-MM-DD`` replays that day's events (default the last full day, 2026-11-29: a light
one; 2026-11-28 is typical), ``BENCH_HOURS_EDIT=1`` then times one doctor's weekly shift shortened by an
hour and put back (``BENCH facts_incremental_hours_edit_s``: that weekday over the whole span, no first
visit moved), ``BENCH_REPORTS_ONLY=1`` builds only the channel and cohort facts there (``BENCH
owner_channel_cohort_facts_s``) before timing the reports; ``BENCH_READS_ONLY=1`` builds nothing and times the reports on the facts
a kept database holds (after ``clinicflow analytics rebuild``). ``reports_max_ms`` covers the channel,
administrators and load reports too; the predicted patients ranked per request from the raw tables (what
``clv_classes`` ran before its facts, ``value_sql``) are timed beside."""

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
DB_NAME = os.environ.get("BENCH_DB", "cf_ow_bench")  # BENCH_DB: a kept copy (e.g. of chain-1m)
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

RAW_FUNNEL = """
WITH firsts AS (
  SELECT patient_id, MIN(start_at) AS at FROM booking_appointment
  WHERE organization_id = %(org)s AND status IN ('arrived', 'done') GROUP BY patient_id
)
SELECT COUNT(*), COUNT(*) FILTER (WHERE n >= 3) FROM (
  SELECT f.patient_id, COUNT(a.id) AS n FROM firsts f
  JOIN booking_appointment a ON a.organization_id = %(org)s AND a.patient_id = f.patient_id
   AND a.status IN ('arrived', 'done')
  WHERE f.at >= %(start)s AND f.at < %(end)s GROUP BY f.patient_id
) t
"""

RAW_COHORTS = """
WITH firsts AS (
  SELECT patient_id, MIN(start_at) AS at FROM booking_appointment
  WHERE organization_id = %(org)s AND status IN ('arrived', 'done') GROUP BY patient_id
), f AS (SELECT patient_id, date_trunc('month', at) AS m FROM firsts WHERE at >= %(start)s AND at < %(end)s)
SELECT f.m, date_trunc('month', a.start_at), COUNT(DISTINCT f.patient_id) FROM f
JOIN booking_appointment a ON a.organization_id = %(org)s AND a.patient_id = f.patient_id
 AND a.status IN ('arrived', 'done')
GROUP BY 1, 2
"""
# the rebuild's anchor (as ``bench_facts``): every appointment counted per branch and local day
RAW_DAYS = """
SELECT a.branch_id, (a.start_at AT TIME ZONE b.timezone)::date, COUNT(*)
FROM booking_appointment a JOIN core_branch b ON b.id = a.branch_id
WHERE a.organization_id = %s GROUP BY 1, 2
"""
CHAIN_PATIENTS, CHAIN_MONTHS = 1_000_000, 60


def raw_timing(sql: str, params: list[Any]) -> float:
    """Seconds one raw statement takes (fetched)."""
    from django.db import connection

    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(sql, params)
        cur.fetchall()
    return time.perf_counter() - t


def db(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def timed(fn: Callable[[], Any], runs: int = 6) -> float:
    timings = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - t) * 1000)
    return statistics.median(timings[1:])


def build_org() -> Any:
    from clinicflow.core.models import Region
    from clinicflow.core.services import organization_create
    from clinicflow.simulator.runner import simulate_org
    from clinicflow.simulator.scenario import load_scenario

    months = int(os.environ.get("BENCH_MONTHS", "12"))
    patients = int(os.environ.get("BENCH_PATIENTS", "50000"))
    org = organization_create(
        name="Bench Chain", slug="chain", country="RU", currency="RUB", data_region=Region.RU
    )
    overrides = {"clinic": {"months": months, "patients": patients, "end_date": "2026-11-30"}}
    t = time.perf_counter()
    simulate_org(org=org, scenario=load_scenario("chain-1m", overrides=overrides), seed=5)
    print(f"simulated chain-1m: {months} months, {patients} patients in {time.perf_counter() - t:.0f} s")
    return org


def one_days_events(org: Any, day: dt.date, *, payments: bool = False) -> int:
    """The last day's appointments marked again (status saved), as the front desk does through the
    day, and (``payments``) its payments saved again: each save records a change for the facts."""
    from clinicflow.booking.models import Appointment, Payment

    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    appts = list(
        Appointment.objects.for_org(org).filter(
            start_at__gte=start, start_at__lt=start + dt.timedelta(days=1)
        )
    )
    for a in appts:
        status = a.status
        a.status = "booked"
        a.save(update_fields=["status"])
        a.status = status
        a.save(update_fields=["status"])
    if payments:  # the day's payments saved again too: each records its patient's change
        for pay in Payment.objects.for_org(org).filter(
            paid_at__gte=start, paid_at__lt=start + dt.timedelta(days=1)
        ):
            pay.save()
    return len(appts)


def hours_edit(org: Any, slow: float) -> None:
    """One doctor's weekly shift shortened by an hour and put back (two saves: the weekday's days over
    the whole span recorded twice), applied and timed."""
    from clinicflow.analytics.owner.changes import apply_changes
    from clinicflow.analytics.owner.rebuild_phases import timed_phases
    from clinicflow.booking.models import WorkingHours

    hours = WorkingHours.objects.for_org(org).order_by("branch_id", "doctor_id", "weekday").first()
    if hours is None:
        return
    end = hours.end_time
    hours.end_time = dt.time(end.hour - 1, end.minute)
    hours.save()
    hours.end_time = end
    hours.save()
    t = time.perf_counter()
    changes = days = 0
    with timed_phases(lambda line: print(f"  {line}", flush=True), slow):
        while (applied := apply_changes(org)).changes:
            changes += applied.changes
            days += applied.days
    print(f"a weekly shift edited and put back: {changes} changes, {days} days built")
    print(f"BENCH facts_incremental_hours_edit_s {time.perf_counter() - t:.2f} s")


def main() -> int:
    reuse = os.environ.get("BENCH_REUSE") == "1" or "BENCH_DB" in os.environ  # a kept one: never dropped
    if not reuse:
        db(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        db(f"CREATE DATABASE {DB_NAME}")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from clinicflow.analytics.owner.changes import apply_changes
    from clinicflow.analytics.owner.facts import rebuild
    from clinicflow.analytics.owner.rebuild_phases import timed_phases
    from clinicflow.booking.models import Appointment, Payment
    from clinicflow.core.models import Organization
    from clinicflow.patients.models import Patient

    found = Organization.objects.filter(slug="chain").first() if reuse else None
    org = found if found is not None else build_org()
    end = dt.date(2026, 11, 30)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    patients = Patient.objects.for_org(org).count()
    months = int(os.environ.get("BENCH_MONTHS", "12"))
    print(
        f"scale: patients={patients} "
        f"appointments={Appointment.objects.for_org(org).count()} "
        f"payments={Payment.objects.for_org(org).count()}; "
        f"chain-1m is {CHAIN_PATIENTS:,} patients over {CHAIN_MONTHS} months: this is "
        f"{patients / CHAIN_PATIENTS:.1%} of its patients, {months / CHAIN_MONTHS:.0%} of its months"
    )
    if os.environ.get("BENCH_READS_ONLY") == "1":  # a kept database whose facts are all built
        return report_timings(org, end)
    if os.environ.get("BENCH_REPORTS_ONLY") == "1":  # a kept database whose day facts are built
        from clinicflow.analytics.owner.fact_hooks import build_owner_facts

        t = time.perf_counter()
        rows = build_owner_facts(org)
        print(f"BENCH owner_channel_cohort_facts_s {time.perf_counter() - t:.1f} s ({rows} rows)")
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        return report_timings(org, end)
    if os.environ.get("BENCH_INCREMENTAL_ONLY") != "1":  # else: a kept database whose facts are built
        t = time.perf_counter()
        stats = rebuild(org, phases=lambda line: print(f"  {line}", flush=True))
        print(f"rebuild: {stats.summary()}")
        rebuild_s = time.perf_counter() - t
        print(f"BENCH facts_rebuild_s {rebuild_s:.1f} s")
        anchor = min(raw_timing(RAW_DAYS, [org.pk]) for _ in range(3))
        print(
            f"anchor: raw SQL appointments per branch-day {anchor:.2f} s; rebuild / raw SQL {rebuild_s / anchor:.0f}"
        )
    # BENCH_DAY: the day whose events are replayed (a typical one, e.g. 2026-11-28; default the last
    # full day, lighter than most at the simulation's end)
    event_day = dt.date.fromisoformat(os.environ.get("BENCH_DAY") or (end - dt.timedelta(days=1)).isoformat())
    n = one_days_events(org, event_day, payments=os.environ.get("BENCH_TOUCH_ALL") == "1")
    if os.environ.get("BENCH_TOUCH_ALL") == "1":  # as if every saved visit changed its patient's history
        from clinicflow.analytics.owner import changes as changes_module

        changes_module._touched = lambda changes, original, now: {
            c.patient_id for c in changes if c.patient_id is not None
        }
    t = time.perf_counter()
    changes = days = 0
    slow = float(os.environ.get("BENCH_SLOW_S", "0.3"))  # statements at least this slow are shown
    with timed_phases(lambda line: print(f"  {line}", flush=True), slow):  # where the time goes
        while (applied := apply_changes(org)).changes:  # every batch of the day's changes
            changes += applied.changes
            days += applied.days
    print(
        f"one day ({event_day}): {n} appointments saved twice, {changes} changes, {days} days and pairs built"
    )
    incremental_s = time.perf_counter() - t
    print(f"BENCH facts_incremental_s {incremental_s:.2f} s")
    day0 = dt.datetime.combine(event_day, dt.time.min, tzinfo=dt.UTC)
    day_sql = RAW_DAYS.replace("GROUP BY", "AND a.start_at >= %s AND a.start_at < %s GROUP BY")
    day_anchor = min(raw_timing(day_sql, [org.pk, day0, day0 + dt.timedelta(days=1)]) for _ in range(3))
    print(
        f"anchor: raw SQL of the day's appointments per branch {day_anchor * 1000:.1f} ms; "
        f"incremental / raw SQL {incremental_s / day_anchor:.0f}"
    )
    if os.environ.get("BENCH_HOURS_EDIT") == "1":
        hours_edit(org, slow)
    if os.environ.get("BENCH_FACTS_ONLY") == "1":  # the facts' two figures only, no report timings
        return 0
    return report_timings(org, end)


def report_timings(org: Any, end: dt.date) -> int:
    """The owner home, the cohort matrix and every other owner report timed, with the raw-SQL anchors."""
    from django.db import connection

    import clinicflow.analytics.reports.owner
    from clinicflow.analytics.owner.home import owner_view
    from clinicflow.analytics.reports.base import build_context, get_report, load_reports, run_report

    d0 = end - dt.timedelta(days=29)
    home = timed(lambda: owner_view(org=org, date_from=d0, date_to=end, branch=None))
    print(f"BENCH owner_home_ms {home:.0f} ms")
    start = dt.datetime.combine(d0, dt.time.min, tzinfo=dt.UTC)

    def raw() -> None:
        with connection.cursor() as cur:
            cur.execute(RAW_FUNNEL, {"org": org.pk, "start": start, "end": start + dt.timedelta(days=30)})
            cur.fetchall()

    anchor = timed(raw)
    print(
        f"anchor: raw SQL funnel (first patients, third visits) {anchor:.0f} ms; owner_home / raw SQL {home / anchor:.2f}"
    )

    def report(name: str, days: int) -> Callable[[], Any]:
        spec = get_report(name)
        query = {"from": (end - dt.timedelta(days=days - 1)).isoformat(), "to": end.isoformat()}
        return lambda: run_report(spec, build_context(spec, org=org, user=None, query=query))

    cohorts = timed(report("cohorts", 365))
    print(f"BENCH cohorts_ms {cohorts:.0f} ms")
    year = dt.datetime.combine(end - dt.timedelta(days=364), dt.time.min, tzinfo=dt.UTC)

    def raw_cohorts() -> None:
        with connection.cursor() as cur:
            cur.execute(RAW_COHORTS, {"org": org.pk, "start": year, "end": start + dt.timedelta(days=30)})
            cur.fetchall()

    anchor_c = timed(raw_cohorts)
    print(f"anchor: raw SQL cohort months {anchor_c:.0f} ms; cohorts / raw SQL {cohorts / anchor_c:.2f}")
    profile = timed(report("patient_profile", 365), runs=3)
    print(f"BENCH patient_profile_ms {profile:.0f} ms")
    load_reports()
    others: dict[str, float] = {
        name: timed(report(name, 90), runs=3)
        for name in (
            "owner_home",
            "revenue",
            "clv_classes",
            "recall_candidates",
            "doctors_balanced",
            "scorecards",
            "channels",
            "administrators",
            "capacity_load",
        )
        if name in clinicflow.analytics.reports.base.REGISTRY
    }
    others["patient_profile"] = profile
    print("reports_ms " + " ".join(f"{k}={v:.0f}" for k, v in others.items()))
    from decimal import Decimal

    from clinicflow.analytics.reports.owner import value_sql

    shares = (Decimal("0.2"), Decimal("0.3"))
    ranked = timed(
        lambda: value_sql.class_sums(org=org, currency=org.currency, branch=None, shares=shares), runs=3
    )
    print(
        f"anchor: the predicted patients ranked from the raw tables per request (clv_classes before its facts) {ranked:.0f} ms"
    )
    print(f"BENCH reports_max_ms {max(others.values()):.0f} ms")
    q0 = dt.datetime.combine(end - dt.timedelta(days=89), dt.time.min, tzinfo=dt.UTC)

    def raw90() -> None:
        with connection.cursor() as cur:
            cur.execute(RAW_FUNNEL, {"org": org.pk, "start": q0, "end": start + dt.timedelta(days=30)})
            cur.fetchall()

    anchor_r = timed(raw90, runs=3)
    print(
        f"anchor: raw SQL funnel over 90 days {anchor_r:.0f} ms; "
        f"reports_max / raw SQL {max(others.values()) / anchor_r:.2f}"
    )
    connection.close()
    if os.environ.get("BENCH_KEEP") != "1" and "BENCH_DB" not in os.environ:
        db(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
