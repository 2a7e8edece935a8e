"""The loyalty liability report for a 20-branch chain with 10,000,000 postings (issue #16), PostgreSQL.

Seeds one organisation with 20 branches and ``BENCH_PATIENTS`` patients spread over them, each with
the four patient accounts (prepaid membership fees, balance, bonus, points); then ``BENCH_POSTINGS``
postings in balanced pairs (patient account against the clinic's cash / bonus-issued /
points-issued account) written by one INSERT ... SELECT per account kind over two years, and the
cached balances set from them (the load runs with triggers off; ``ledger_verify`` is not run on 10 M
rows). Times the report (``compute`` of ``loyalty_liability`` for the chain: today, and on a date
30 days back) and, as the anchor in the same run, the raw SQL that sums the same cached balances by
branch. Prints BENCH liability_report_ms (p95, target < 1000 ms), the past-date p95, the anchor's p95
and the ratio. ``BENCH_ROUNDS``, ``BENCH_PATIENTS`` and ``BENCH_POSTINGS`` shrink it for a look;
``BENCH_REUSE=1`` times the database an earlier run loaded, without loading it again (e.g. with and
without an index)."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import percentile, setup_django

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "20000"))
POSTINGS = int(os.environ.get("BENCH_POSTINGS", "10000000"))
BRANCHES = 20

ANCHOR = """
SELECT p.branch_id, a.kind, a.unit, SUM(a.balance)
  FROM ledger_account a JOIN patients_patient p ON p.id = a.patient_id
 WHERE a.organization_id = %s AND a.patient_id IS NOT NULL AND a.unit IN ('RUB', 'PTS')
 GROUP BY p.branch_id, a.kind, a.unit
"""

# one kind of patient account: (kind, unit, the clinic's account it moves against)
KINDS = [("prepaid", "RUB", "cash"), ("money", "RUB", "cash"), ("bonus", "RUB", "bonus_issued"),
         ("points", "PTS", "points_issued")]  # fmt: skip

LOAD = """
WITH acc AS (
  SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM ledger_account
   WHERE organization_id = %(org)s AND patient_id IS NOT NULL AND kind = %(kind)s
), tx AS (
  INSERT INTO ledger_transaction (id, organization_id, kind, memo, reference, created_at)
  SELECT gen_random_uuid(), %(org)s, 'top_up', '', g::text, %(start)s + (g * interval '1 second' * %(step)s)
    FROM generate_series(0, %(count)s - 1) g
  RETURNING id, reference::bigint AS g, created_at
)
INSERT INTO ledger_posting (id, organization_id, transaction_id, account_id, unit, amount, created_at)
SELECT gen_random_uuid(), %(org)s, tx.id, CASE WHEN s = 0 THEN acc.id ELSE %(sink)s END, %(unit)s,
       CASE WHEN s = 0 THEN 100 ELSE -100 END, tx.created_at
  FROM tx JOIN acc ON acc.n = tx.g %% %(accounts)s CROSS JOIN (VALUES (0), (1)) v(s)
"""


def _seed() -> tuple[Any, list[Any]]:
    from django.db import connection, transaction

    from clinicflow.core.services import branch_create, organization_create
    from clinicflow.ledger.models import Account
    from clinicflow.ledger.services.journal import account_for
    from clinicflow.patients.models import Patient

    org = organization_create(name="Chain", slug="chain", country="RU", currency="RUB")
    branches = [
        branch_create(org=org, name=f"Branch {i:02d}", slug=f"b{i:02d}", timezone="Europe/Moscow")
        for i in range(BRANCHES)
    ]
    started = time.perf_counter()
    with transaction.atomic():
        for lo in range(0, PATIENTS, 20000):
            patients = Patient.objects.bulk_create(
                [Patient(organization=org, branch=branches[i % BRANCHES], last_name=f"L{i}", first_name="F",
                         search_name=f"l{i} f") for i in range(lo, min(lo + 20000, PATIENTS))],
                batch_size=5000,
            )  # fmt: skip
            Account.objects.bulk_create(
                [Account(organization=org, patient=p, kind=k, unit=u) for p in patients for k, u, _ in KINDS],
                batch_size=10000,
            )
        sinks = {k: account_for(org=org, kind=s, unit=u) for k, u, s in KINDS}
    print(
        f"   {PATIENTS} patients, {PATIENTS * 4} accounts in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    started = time.perf_counter()
    per_kind = POSTINGS // 2 // len(KINDS)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=730)
    step = 730 * 86400 / max(per_kind, 1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # the load skips the triggers
        for kind, unit, _ in KINDS:
            cursor.execute(LOAD, {"org": org.pk, "kind": kind, "unit": unit, "sink": sinks[kind].pk,
                                  "start": start, "step": step, "count": per_kind, "accounts": PATIENTS})  # fmt: skip
        cursor.execute(
            "UPDATE ledger_account a SET balance = s.total FROM (SELECT account_id, SUM(amount) AS total "
            "FROM ledger_posting WHERE organization_id = %s GROUP BY account_id) s "
            "WHERE a.id = s.account_id AND a.patient_id IS NOT NULL",
            [org.pk],
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT COUNT(*) FROM ledger_posting")
        count = cursor.fetchone()[0]
    print(f"   {count} postings in {time.perf_counter() - started:.1f} s", flush=True)
    return org, branches


def _reuse() -> Any:
    import django

    host = os.environ.get("PGHOST", "127.0.0.1")
    os.environ["DATABASE_URL"] = f"postgresql://postgres@{host}:5432/cf_mem_liability"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    django.setup()
    from clinicflow.core.models import Organization

    return Organization.objects.get(slug="chain")


def main() -> None:
    org = _reuse() if os.environ.get("BENCH_REUSE") == "1" else None
    if org is None:
        setup_django("postgres", "cf_mem_liability")
    from django.db import connection

    from clinicflow.analytics.reports import loyalty  # registers the report (alone: no other module)
    from clinicflow.analytics.reports.base import REGISTRY, build_context, run_report

    if org is None:
        org, _ = _seed()
    spec = REGISTRY["loyalty_liability"]
    assert loyalty.HELD
    today = build_context(spec, org=org, user=None, query={})
    back = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    past = build_context(spec, org=org, user=None, query={"to": back})
    result = run_report(spec, today)
    assert len(result.rows) == BRANCHES, result.rows
    timings, olds, anchor = [], [], []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        run_report(spec, today)
        timings.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        run_report(spec, past)
        olds.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(ANCHOR, [org.pk])
            rows = cursor.fetchall()
        anchor.append((time.perf_counter() - t0) * 1000)
        assert len(rows) == BRANCHES * 4
    p95, a95 = percentile(timings, 95), percentile(anchor, 95)
    print(f"BENCH liability_report_ms_p50 {percentile(timings, 50):.1f} ms")
    print(f"BENCH liability_report_past_ms {percentile(olds, 95):.1f} ms")
    print(f"BENCH liability_raw_sql_ms {a95:.1f} ms")
    print(f"BENCH liability_ratio {p95 / a95:.1f} x")
    print(f"BENCH liability_report_ms {p95:.1f} ms", flush=True)


if __name__ == "__main__":
    main()
