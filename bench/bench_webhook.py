"""Webhook ingestion benchmark: a real server process (gunicorn with config/gunicorn.py, one worker process) in front of a
scratch PostgreSQL database ``bench_webhook``; half of the events are duplicates.

    .venv/bin/python bench/bench_webhook.py [--events 6000] [--clients 16]

Prints ``BENCH webhook_events_per_s <n> events/s`` and ``BENCH webhook_p95_ms <n> ms``."""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import django
import psycopg
from django.core.management import call_command
from django.db import connection

if TYPE_CHECKING:
    from clinicflow.core.models import Branch, Organization

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "bench_webhook"
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB_URL = f"{PG}/{DB_NAME}"
sys.path.insert(0, str(ROOT))
os.environ["DATABASE_URL"] = DB_URL
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def recreate_db() -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_history(org: Organization, branch: Branch, count: int) -> int:
    """The clinic's earlier call log (the two years before the benchmark's events) with fresh planner
    statistics, as on a live database: the event statement's look-ups (earlier calls from the number,
    open callbacks) then run on real-sized tables through their indexes."""
    # imported after django.setup() (the script boots Django in main())
    from clinicflow.acquisition.models import Call, CallStatus

    rng = random.Random(11)
    start = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    span = int((dt.datetime(2025, 1, 1, tzinfo=dt.UTC) - start).total_seconds())
    batch = []
    for i in range(count):
        status = rng.choice([CallStatus.COMPLETED, CallStatus.MISSED, CallStatus.ANSWERED])
        batch.append(
            Call(
                organization=org,
                provider="generic",
                provider_call_id=f"history-{i}",
                branch=branch,
                called_number=f"+7495100{rng.randrange(20):04d}",
                caller_e164=f"+7916{rng.randrange(10**6, 10**7 - 1)}",
                started_at=start + dt.timedelta(seconds=rng.randrange(span)),
                status=status,
                duration=rng.randrange(5, 400),
                is_unique=True,
            )
        )
        if len(batch) == 5000:
            Call.objects.bulk_create(batch)
            batch = []
    Call.objects.bulk_create(batch)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return count


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument(
        "--history", type=int, default=50_000, help="calls already in the log before the benchmark"
    )
    args = parser.parse_args()

    recreate_db()
    django.setup()

    call_command("migrate", verbosity=0)
    # imported after django.setup(): the app registry must be ready
    from clinicflow.acquisition.integrations import services
    from clinicflow.acquisition.models import Call, NumberPool, TrackingNumber
    from clinicflow.core.services import branch_create, organization_create

    org = organization_create(name="Bench", slug="bench", country="RU", currency="RUB")
    branch = branch_create(org=org, name="Main", slug="main", timezone="Europe/Moscow")
    for i in range(20):
        TrackingNumber.objects.create(
            organization=org, e164=f"+7495100{i:04d}", pool=NumberPool.DYNAMIC, branch=branch
        )
    _integration, secret = services.integration_create(org=org, actor=None, provider="generic")
    path = services.webhook_path("generic", secret)
    history = load_history(org, branch, args.history)

    unique = args.events // 2
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    rng = random.Random(7)
    bodies = []
    for i in range(unique):
        at = start + dt.timedelta(minutes=7 * i)
        bodies.append(
            json.dumps(
                {
                    "call_id": f"bench-{i}",
                    "event": rng.choice(["completed", "missed", "answered"]),
                    "caller": f"+7916{rng.randrange(10**6, 10**7 - 1)}",
                    "called": f"+7495100{rng.randrange(20):04d}",
                    "started_at": at.isoformat(),
                    "duration": rng.randrange(5, 400),
                }
            ).encode()
        )
    events = bodies + bodies  # every event delivered twice
    rng.shuffle(events)

    port = free_port()
    # the production settings (config/gunicorn.py) with one worker process, as the target asks;
    # BENCH_THREADS overrides its thread count to compare layouts
    env = {
        **os.environ,
        "CLINICFLOW_ENV": "development",  # DEBUG off over plain HTTP; gunicorn's default is production
        "DATABASE_URL": DB_URL,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": "1",
        "WEB_LOG_LEVEL": "warning",
    }
    if os.environ.get("BENCH_THREADS"):
        env["WEB_THREADS"] = os.environ["BENCH_THREADS"]
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi:application",
            "-c",
            str(ROOT / "config" / "gunicorn.py"),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        queue = list(enumerate(events))
        cursor = [0]

        def worker() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine: list[float] = []
            while True:
                with lock:
                    if cursor[0] >= len(queue):
                        break
                    _, body = queue[cursor[0]]
                    cursor[0] += 1
                t0 = time.perf_counter()
                try:
                    conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                    response = conn.getresponse()
                    response.read()
                    if response.status not in (200, 201):
                        errors.append(str(response.status))
                except (OSError, http.client.HTTPException) as exc:
                    errors.append(repr(exc))
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                mine.append(time.perf_counter() - t0)
            with lock:
                latencies.extend(mine)

        # warm-up: the first requests import the whole project in the worker
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        warm.request("POST", path, body=b"{}", headers={"Content-Type": "application/json"})
        warm.getresponse().read()

        threads = [threading.Thread(target=worker) for _ in range(args.clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(10)

    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000 if latencies else 0.0
    stored = Call.objects.for_org(org).count() - history
    print(f"events={len(events)} unique={unique} stored={stored} errors={len(errors)} s={elapsed:.2f}")
    if errors:
        print("first errors:", errors[:5])
    print(f"BENCH webhook_events_per_s {len(events) / elapsed:.0f} events/s")
    print(f"BENCH webhook_p95_ms {p95:.1f} ms")
    connection.close()
    recreate_db_drop()
    return 0 if stored == unique and not errors else 1


def recreate_db_drop() -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    raise SystemExit(main())
