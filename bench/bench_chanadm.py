"""Front desk facts benchmark (issue #17): on a kept database (``BENCH_DB``, default the 50,620-patient
× 12-month chain ``cf_ownerreads_50k``; never simulated nor dropped here) the front desk's daily facts
(``owner.admin_facts``) built in full, then the administrators report and the scorecards' front-desk
part over 90 days, chain and first branch, read from the facts against the former reads from the raw
calls (``raw_administrator_rows``; the scorecards' ``_admin_rows``), checked equal; then the channels'
traffic facts (``owner.traffic_facts``) built and the channel report's sessions, leads and calls read
from them against the raw tables, checked equal, and the whole channel report timed.

    BENCH_DB=cf_ownerreads_50k .venv/bin/python bench/bench_chanadm.py

Prints ``BENCH admin_facts_build_s``, ``BENCH administrators_ms``, ``BENCH scorecards_ms``,
``BENCH traffic_facts_build_s``, ``BENCH channels_ms`` (medians of 5
after a warm-up) with the raw reads beside and the anchor: the period's unique calls counted by one SQL
statement (``administrators / raw SQL``)."""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = os.environ.get("BENCH_DB", "cf_ownerreads_50k")
os.environ["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}"
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
RAW = (
    "SELECT COUNT(*) FROM acquisition_call WHERE organization_id = %s AND is_unique "
    "AND administrator_id IS NOT NULL AND started_at >= %s AND started_at < %s"
)


def timed(fn: Callable[[], Any], runs: int = 6) -> float:
    timings = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - t) * 1000)
    return statistics.median(timings[1:])


def _database_exists() -> bool:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)).fetchone() is not None


def main() -> int:
    if not _database_exists():
        print(
            f"chanadm: no database {DB_NAME!r} — this benchmark runs on a kept simulated chain (see the "
            "module's docstring: `BENCH_KEEP=1` with `bench_owner` keeps one)"
        )
        return 0
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "analytics", verbosity=0)
    from clinicflow.analytics.owner import scorecards as sc
    from clinicflow.analytics.owner.admin_facts import build_admin_facts
    from clinicflow.analytics.owner.admin_reads import admin_period_rows
    from clinicflow.analytics.owner.traffic_facts import build_traffic_facts
    from clinicflow.analytics.reports.acquisition.administrators import (
        administrator_rows,
        raw_administrator_rows,
    )
    from clinicflow.analytics.reports.base import period_bounds
    from clinicflow.core.models import Organization
    from clinicflow.core.selectors import branch_list

    org = Organization.objects.get(slug="chain")
    end = dt.date(2026, 11, 30)
    d0 = end - dt.timedelta(days=89)
    t = time.perf_counter()
    rows = build_admin_facts(org)
    print(f"BENCH admin_facts_build_s {time.perf_counter() - t:.2f} s ({rows} rows)")
    with connection.cursor() as cur:
        cur.execute("ANALYZE analytics_admindayfact")
    for branch in (None, branch_list(org=org)[0]):
        where = "chain" if branch is None else "branch"
        kw: dict[str, Any] = {"org": org, "date_from": d0, "date_to": end, "branch": branch}
        assert administrator_rows(**kw) == raw_administrator_rows(**kw), where
        facts = timed(lambda: administrator_rows(**kw))  # noqa: B023
        raw = timed(lambda: raw_administrator_rows(**kw), runs=4)  # noqa: B023
        print(f"BENCH administrators_ms {facts:.1f} ms ({where}, 90 d); raw calls {raw:.0f} ms")
        periods = [(d0 - dt.timedelta(days=90 * k), end - dt.timedelta(days=90 * k)) for k in range(3)]
        moments = [period_bounds(a, b, branch) for a, b in periods]
        fast = [
            [(r["unique_calls"], r["booked"], r["avg_score"]) for r in p]
            for p in admin_period_rows(org, periods, branch) or []
        ]
        slow = [
            sorted((r["unique_calls"], r["booked"], r["avg_score"]) for r in p)
            for p in sc._admin_rows(org, moments, branch)
        ]
        assert [sorted(p) for p in fast] == slow, where
        f_front = timed(lambda: admin_period_rows(org, periods, branch))  # noqa: B023
        r_front = timed(lambda: sc._admin_rows(org, moments, branch), runs=4)  # noqa: B023
        card = timed(lambda: sc.scorecards(org=org, date_from=d0, date_to=end, branch=branch), runs=4)  # noqa: B023
        print(
            f"BENCH scorecards_ms {card:.0f} ms ({where}, 90 d x 3 periods); front-desk part "
            f"{f_front:.1f} ms from facts, {r_front:.0f} ms from raw calls"
        )
        with connection.cursor() as cur:
            start, stop = period_bounds(d0, end, branch)

            def anchor(start: dt.datetime = start, stop: dt.datetime = stop) -> None:
                cur.execute(RAW, [org.pk, start, stop])
                cur.fetchall()

            a = timed(anchor)
        print(f"anchor: unique calls counted by raw SQL {a:.1f} ms; administrators / raw SQL {facts / a:.2f}")
    from clinicflow.analytics.reports.acquisition import traffic as tr
    from clinicflow.analytics.reports.acquisition.channels import channel_report

    t = time.perf_counter()
    rows = build_traffic_facts(org)
    print(f"BENCH traffic_facts_build_s {time.perf_counter() - t:.2f} s ({rows} rows)")
    with connection.cursor() as cur:
        cur.execute("ANALYZE analytics_trafficdayfact")
    for branch in (None, branch_list(org=org)[0]):
        where = "chain" if branch is None else "branch"
        start, stop = period_bounds(d0, end, branch)

        def raw_traffic(branch: Any = branch, start: Any = start, stop: Any = stop) -> dict[Any, Any]:
            out: dict[Any, Any] = defaultdict(tr.Traffic)
            tr._raw_counts(out, org=org, start=start, end=stop, branch=branch, key="channel_id")
            return dict(out)

        counts = ("sessions", "leads", "calls", "unique_calls", "missed")
        mine = tr.traffic(org=org, date_from=d0, date_to=end, branch=branch, group="channel")
        raw_rows = raw_traffic()
        assert {k: [getattr(v, c) for c in counts] for k, v in raw_rows.items()} == {
            k: [getattr(v, c) for c in counts] for k, v in mine.items() if k in raw_rows
        }, where

        def from_facts(b: Any = branch) -> Any:
            return tr.traffic(org=org, date_from=d0, date_to=end, branch=b, group="channel")

        def whole(b: Any = branch) -> Any:
            return channel_report(org=org, date_from=d0, date_to=end, branch=b)

        facts = timed(from_facts)
        before = timed(raw_traffic, runs=4)
        report = timed(whole, runs=4)
        print(
            f"BENCH channels_ms {report:.0f} ms ({where}, 90 d); its traffic part {facts:.1f} ms from facts, "
            f"sessions/leads/calls from the raw tables {before:.0f} ms"
        )
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
