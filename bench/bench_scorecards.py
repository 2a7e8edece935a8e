"""Department scorecards and balanced doctor benchmark (issue #17): on a kept PostgreSQL database
(``BENCH_DB``, default ``cf_score_50k``: a copy of the 50,000-patient chain, org ``BENCH_ORG``, default
``chain``, its day facts built), the two reports over the ``BENCH_DAYS`` (default 90) days to
``BENCH_END`` (default 2026-11-30) for the chain and its first branch: first from the raw rows (the
score facts deleted: the reports then read what they read before the facts, ``owner.score_raw`` and the
feedback and clinical selectors), then from the score facts after building them (``score_facts``,
timed: what they add to a full rebuild). The scorecards are three periods (this one, the previous and
the one before it, for the trend).

    BENCH_DB=cf_score_50k .venv/bin/python bench/bench_scorecards.py

Prints ``BENCH scorecards_ms`` and ``BENCH doctors_balanced_ms`` (the chain's, from the facts; median
of 5 runs after a warm-up), the same from the raw rows beside, ``BENCH score_facts_rebuild_s``, the
load average beside each, and the anchor: the survey answers, follow-ups and callbacks of the three
periods counted straight from the raw tables by one SQL statement (``report / raw SQL``). It checks
that both ways give the same values and exits 1 otherwise."""

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
DB_NAME = os.environ.get("BENCH_DB", "cf_score_50k")
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
END = dt.date.fromisoformat(os.environ.get("BENCH_END", "2026-11-30"))
DAYS = int(os.environ.get("BENCH_DAYS", "90"))
RAW = """
SELECT (SELECT COUNT(*) FROM feedback_surveyanswer WHERE organization_id = %(org)s
          AND answered_at >= %(start)s AND answered_at < %(end)s),
       (SELECT COUNT(*) FROM care_followuptask WHERE organization_id = %(org)s
          AND due_at >= %(start)s AND due_at < %(end)s),
       (SELECT COUNT(*) FROM acquisition_callbacktask WHERE organization_id = %(org)s
          AND due_at >= %(start)s AND due_at < %(end)s)
"""


def timed(fn: Callable[[], Any], runs: int = 6) -> float:
    timings = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - t) * 1000)
    return statistics.median(timings[1:])


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main() -> int:
    import django

    django.setup()
    from django.db import connection

    from clinicflow.analytics.owner.score_facts import build_score_facts
    from clinicflow.analytics.owner.score_models import AnswerDayFact, ComplicationDayFact, ScoreDayFact
    from clinicflow.analytics.reports.base import ReportContext
    from clinicflow.analytics.reports.owner import doctors
    from clinicflow.analytics.reports.owner import scorecards as scorecards_report
    from clinicflow.core.models import Organization
    from clinicflow.core.selectors import branch_list

    org = Organization.objects.filter(slug=os.environ.get("BENCH_ORG", "chain")).first()
    if org is None:
        print(f"no organisation {os.environ.get('BENCH_ORG', 'chain')} in {DB_NAME}: copy cf_base_50k first")
        return 0
    d0 = END - dt.timedelta(days=DAYS - 1)
    branch = branch_list(org=org)[0]
    start = dt.datetime.combine(d0 - dt.timedelta(days=2 * DAYS), dt.time.min, tzinfo=dt.UTC)
    end = dt.datetime.combine(END + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)

    def raw() -> None:
        with connection.cursor() as cur:
            cur.execute(RAW, {"org": org.pk, "start": start, "end": end})
            cur.fetchall()

    def report(compute: Callable[[ReportContext], Any], b: Any) -> Callable[[], Any]:
        return lambda: compute(ReportContext(org=org, user=None, date_from=d0, date_to=END, branch=b))

    reports = {"scorecards": scorecards_report.compute, "doctors_balanced": doctors.compute}
    results: dict[str, dict[str, Any]] = {"raw": {}, "facts": {}}
    for way in ("raw", "facts"):
        if way == "raw":
            for model in (ScoreDayFact, AnswerDayFact, ComplicationDayFact):
                model.objects.for_org(org).delete()
        else:
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
            t = time.perf_counter()
            rows = build_score_facts(org)
            print(f"BENCH score_facts_rebuild_s {time.perf_counter() - t:.1f} s ({rows} rows; {load()})")
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        anchor = timed(raw)
        for name, compute in reports.items():
            for b in (None, branch):
                ms = timed(report(compute, b))
                results[way][f"{name} {b}"] = report(compute, b)().rows
                tag = f"{name}_ms" if b is None else f"{name}_branch_ms"
                prefix = "BENCH " if way == "facts" else f"{way}: "
                print(
                    f"{prefix}{tag} {ms:.0f} ms; raw SQL anchor {anchor:.0f} ms, ratio {ms / anchor:.2f} ({load()})"
                )
    for key, rows in results["raw"].items():
        if results["facts"][key] != rows:
            print(f"MISMATCH {key}")
            return 1
    print("values equal from the raw rows and from the facts: yes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
