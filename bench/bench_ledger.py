"""Concurrent wallet top-ups and spends through the HTTP API on PostgreSQL (issue #16, section Speed).

A scratch database ``bench_ledger`` (created and dropped here) holds one clinic with a points
programme, a small stored-value plan (pay 5,000, get 5,500) and ``BENCH_PATIENTS`` (300) patients,
all but a few holding a wallet (a top-up of 500-5,000 RUB; every tenth through the plan, so with a
bonus lot). ``BENCH_CLIENTS`` (50) front-desk-like clients, threads of this process, each loop for
``BENCH_SECONDS`` (30 s): pick a patient from a hot set of ``BENCH_HOT`` (12, two of them without a
wallet yet) so that clients contend on the same accounts, think 0.5-1.5 s, read the wallet
(``GET /api/v1/patients/<id>/wallet``), think again, then either top up (45 %; one in ten through
the plan) or spend 100-4,000 RUB (55 %, category ``laser``: points are earned), each with a fresh
``Idempotency-Key``. Spends often ask more than the balance holds: those must be refused (409 naming
``amount``), never overdrawn. One money-moving call in twenty is sent twice with the same key (a
retry; half of them while the first is still running), and both must get the one answer of one posting.

BENCH ledger_p95_ms            p95 latency of the money-moving POSTs (top-up and spend, first sends)
BENCH ledger_wallet_get_p95_ms the anchor, same run: p95 of the authenticated wallet GET; and the ratio
BENCH ledger_requests_per_s    all requests (GETs, POSTs and retries) answered per second
BENCH ledger_overspends        counted in SQL after the run: patient money/bonus accounts with a
                               negative balance, plus patient accounts whose cached balance differs
                               from the sum of their postings (must be 0)
BENCH ledger_verify_mismatches what ``clinicflow ledger verify`` finds after the run (must be 0)
BENCH ledger_lost_postings     what the clients were told (201 answers) against the database: hot
                               patients whose money + bonus is not seed + top-ups - spends, plus the
                               difference in the number of top-up/spend transactions, plus retries
                               that did not replay the first answer (must be 0)
BENCH ledger_server_errors     5xx answers (must be 0)

The server is gunicorn as in production (``config/gunicorn.py``, persistent database connections),
as in ``bench_booking.py``; BENCH_WORKERS / BENCH_THREADS override its layout. The clients share the
machine's cores with the server and PostgreSQL.

Run: ``.venv/bin/python bench/bench_ledger.py`` or ``make bench ONLY=ledger``.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import admin_sql, free_port, loadavg, pct, start_gunicorn  # noqa: E402

PGHOST = os.environ.get("PGHOST", "127.0.0.1")
PGPORT = os.environ.get("PGPORT", "5432")
PGUSER = os.environ.get("PGUSER", "postgres")
DB = os.environ.get("BENCH_DBNAME", "bench_ledger")  # scratch database, created and dropped here
URL = f"postgresql://{PGUSER}@{PGHOST}:{PGPORT}/{DB}"
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "300"))
HOT = int(os.environ.get("BENCH_HOT", "12"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "50"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
THINK = (0.5, 1.5)  # seconds before each request of a client, uniform
PLAN_PRICE, PLAN_CREDIT = Decimal("5000"), Decimal("5500")
RETRY_SHARE = float(os.environ.get("BENCH_RETRY_SHARE", "0.05"))


def setup_django() -> None:
    os.environ["DATABASE_URL"] = URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "0")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_data() -> dict[str, Any]:
    # models and services import after setup_django() has pointed Django at the scratch database
    from clinicflow.accounts.roles import Role
    from clinicflow.accounts.services import api_token_issue, user_create
    from clinicflow.core.services import branch_create, organization_create
    from clinicflow.ledger.models import MembershipPlan, PlanKind, PointsProgram
    from clinicflow.ledger.services.wallet import wallet_top_up
    from clinicflow.patients.models import Patient

    rng = random.Random(16)
    org = organization_create(name="Bench Clinic", slug="bench", country="RU", currency="RUB")
    branch = branch_create(org=org, name="Main", slug="main", timezone="Europe/Moscow")
    PointsProgram.objects.create(
        organization=org, currency="RUB", default_rate=Decimal("0.05"), category_rates={"laser": "0.1"},
        point_value=Decimal("1"), valid_days=365,
    )  # fmt: skip
    plan = MembershipPlan.objects.create(
        organization=org, code="sv-5", kind=PlanKind.STORED_VALUE, name="Pay 5,000, get 5,500",
        currency="RUB", price=PLAN_PRICE, credit=PLAN_CREDIT, bonus_valid_days=180,
    )  # fmt: skip
    patients = Patient.objects.bulk_create(
        Patient(
            organization=org, branch=branch, last_name=f"P{i}", first_name="Bench", search_name=f"p{i} bench"
        )
        for i in range(PATIENTS)
    )
    unseeded = {len(patients) - 1, len(patients) - 2}  # hot patients whose first top-up opens the wallet
    for i, patient in enumerate(patients):
        if i in unseeded:
            continue
        if i % 10 == 0:
            wallet_top_up(org=org, actor=None, patient=patient, amount=PLAN_PRICE, currency="RUB", plan=plan)
        else:
            amount = Decimal(rng.randrange(500, 5001))
            wallet_top_up(org=org, actor=None, patient=patient, amount=amount, currency="RUB")
    hot = patients[: HOT - len(unseeded)] + [patients[i] for i in sorted(unseeded)]
    user = user_create(
        org=org, actor=None, email="bench@bench.test", password="bench-password-123456",
        role=Role.FRONTDESK, validate=False,
    )  # fmt: skip
    _, token = api_token_issue(user=user)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {"org": org, "hot": [str(p.pk) for p in hot], "token": token, "held": held_now(org)}


def held_now(org: Any) -> dict[str, Decimal]:
    """Money + bonus held per patient (cached balances)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT patient_id, sum(balance) FROM ledger_account WHERE organization_id = %s"
            " AND kind IN ('money', 'bonus') GROUP BY patient_id",
            [org.pk],
        )
        return {str(pid): total for pid, total in cur.fetchall()}


def start_server(port: int) -> subprocess.Popen[bytes]:
    """gunicorn with ``config/gunicorn.py`` (development profile, DEBUG off, plain HTTP on loopback)."""
    return start_gunicorn(port, URL)


class Load:
    """The clients (see the module): the latencies, the answers and what the clients were told."""

    def __init__(self, data: dict[str, Any], base: str) -> None:
        self.data, self.base = data, base
        self.headers = {"Authorization": f"Bearer {data['token']}", "Content-Type": "application/json"}
        self.lock = threading.Lock()
        self.post_ms: list[float] = []
        self.get_ms: list[float] = []
        self.retry_ms: list[float] = []
        self.codes: dict[str, int] = defaultdict(int)
        self.moved: dict[str, Decimal] = defaultdict(Decimal)  # per patient: + top-ups - spends (201)
        self.txns: dict[str, set[str]] = defaultdict(set)  # kind -> transaction ids answered 201
        self.bad_replays = 0
        self.odd_refusals = 0
        self.answered = 0

    def call(self, path: str, body: dict[str, Any] | None = None, key: str = "") -> tuple[int, Any, float]:
        headers = dict(self.headers)
        if key:
            headers["Idempotency-Key"] = key
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.base}{path}", data=data, headers=headers)
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                code, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            code, raw = e.code, e.read()
        ms = (time.perf_counter() - t0) * 1000
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        with self.lock:
            self.answered += 1
        return code, parsed, ms

    def client(self, i: int, until: float, barrier: threading.Barrier) -> None:
        rng = random.Random(1000 + i)
        hot: list[str] = self.data["hot"]
        barrier.wait()
        while time.perf_counter() < until:
            patient = rng.choice(hot)
            time.sleep(rng.uniform(*THINK))
            code, _, ms = self.call(f"/api/v1/patients/{patient}/wallet")
            with self.lock:
                self.get_ms.append(ms)
                self.codes[f"GET {code}"] += 1
            time.sleep(rng.uniform(*THINK))
            if rng.random() < 0.45:
                kind, op = "top_up", "top-up"
                if rng.random() < 0.1:
                    body: dict[str, Any] = {"amount": str(PLAN_PRICE), "currency": "RUB", "plan": "sv-5"}
                    delta = PLAN_CREDIT
                else:
                    delta = Decimal(rng.randrange(50000, 300001)) / 100
                    body = {"amount": str(delta), "currency": "RUB"}
            else:
                kind, op = "spend", "spend"
                delta = Decimal(rng.randrange(10000, 400001)) / 100
                body = {"amount": str(delta), "currency": "RUB", "category": "laser"}
                delta = -delta
            key = str(uuid.uuid4())
            path = f"/api/v1/patients/{patient}/wallet/{op}"
            retry = rng.random() < RETRY_SHARE
            together = retry and rng.random() < 0.5  # sent while the first still runs (a timed-out client)
            dup: list[tuple[int, Any, float]] = []
            twin = threading.Thread(target=lambda d, *a: d.append(self.call(*a)), args=(dup, path, body, key))
            if together:
                twin.start()
            code, answer, ms = self.call(path, body, key)
            with self.lock:
                self.post_ms.append(ms)
                self.codes[f"{kind} {code}"] += 1
                # a refusal names its field: the amount (more than the balance) and nothing else here
                self.odd_refusals += code in (409, 422) and "amount" not in json.dumps(answer)
                if code == 201:
                    self.moved[patient] += delta
                    self.txns[kind].add(str(answer["id"]))
            if retry:  # the same request with the same key: one posting, the first answer replayed
                if together:
                    twin.join()
                again, replayed, ms = dup[0] if together else self.call(path, body, key)
                with self.lock:
                    self.retry_ms.append(ms)
                    self.codes[f"{kind} retry {again}"] += 1
                    self.bad_replays += again != code or replayed != answer

    def run(self, seconds: float) -> float:
        barrier = threading.Barrier(CLIENTS + 1)
        until = time.perf_counter() + seconds + 1.0
        threads = [
            threading.Thread(target=self.client, args=(i, until, barrier), daemon=True)
            for i in range(CLIENTS)
        ]
        for t in threads:
            t.start()
        time.sleep(1.0)
        barrier.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        return time.perf_counter() - t0


def wait_ready(base: str, data: dict[str, Any]) -> None:
    """Wait for gunicorn, then warm its workers up (imports, first connections) before measuring."""
    req = urllib.request.Request(
        f"{base}/api/v1/patients/{data['hot'][0]}/wallet",
        headers={"Authorization": f"Bearer {data['token']}"},
    )
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(req, timeout=30).read()
            break
        except urllib.error.HTTPError as e:
            raise SystemExit(f"the wallet GET answered {e.code}: {e.read()[:300]!r}") from e
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.3)
    warm = [
        threading.Thread(target=lambda: urllib.request.urlopen(req, timeout=60).read()) for _ in range(16)
    ]
    for t in warm:
        t.start()
    for t in warm:
        t.join()


def check(data: dict[str, Any], load: Load) -> tuple[int, int, list[str]]:
    """Overspends (SQL), lost or extra postings (the clients' view against the database), and what
    ``ledger_verify`` says."""
    from django.db import connection

    from clinicflow.ledger.services.verify import ledger_verify

    org = data["org"]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM ledger_account WHERE organization_id = %s AND patient_id IS NOT NULL"
            " AND kind IN ('money', 'bonus') AND balance < 0",
            [org.pk],
        )
        negative = cur.fetchone()[0]
        cur.execute(
            """
            SELECT count(*) FROM ledger_account a
              LEFT JOIN (SELECT account_id, sum(amount) AS s FROM ledger_posting GROUP BY account_id) p
                ON p.account_id = a.id
             WHERE a.organization_id = %s AND a.patient_id IS NOT NULL AND a.balance <> coalesce(p.s, 0)
            """,
            [org.pk],
        )
        drifted = cur.fetchone()[0]
        cur.execute(
            "SELECT kind, count(*) FROM ledger_transaction WHERE organization_id = %s"
            " AND kind IN ('top_up', 'spend') AND created_at >= %s GROUP BY kind",
            [org.pk, data["started_at"]],
        )
        in_db = dict(cur.fetchall())
    held = held_now(org)
    lost = sum(
        held.get(p, Decimal(0)) != data["held"].get(p, Decimal(0)) + load.moved.get(p, Decimal(0))
        for p in data["hot"]
    )
    for kind in ("top_up", "spend"):
        lost += abs(in_db.get(kind, 0) - len(load.txns[kind]))
    lost += load.bad_replays
    print(
        f"# in the database: {in_db}; negative balances {negative}, cached <> postings {drifted}", flush=True
    )
    report = ledger_verify(org=org)
    return negative + drifted, lost, report.mismatches


def bench_http(data: dict[str, Any]) -> None:
    from django.utils import timezone

    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, data)
        data["started_at"] = timezone.now()
        load = Load(data, base)
        print(f"# load average before {loadavg()}", flush=True)
        wall = load.run(SECONDS)
        after = loadavg()
        codes = dict(sorted(load.codes.items()))
        p95, get95 = pct(load.post_ms, 0.95), pct(load.get_ms, 0.95)
        print(
            f"# {CLIENTS} clients on {len(data['hot'])} hot patients, think {THINK} s, {wall:.1f} s: {codes}; "
            f"POST p50 {pct(load.post_ms, 0.5):.1f} p95 {p95:.1f} p99 {pct(load.post_ms, 0.99):.1f} ms; "
            f"GET wallet p50 {pct(load.get_ms, 0.5):.1f} p95 {get95:.1f} ms; retries p95 "
            f"{pct(load.retry_ms, 0.95):.1f} ms; refusals not naming amount {load.odd_refusals}; "
            f"load average after {after}",
            flush=True,
        )
        server_errors = sum(n for k, n in load.codes.items() if k.split()[-1].startswith("5"))
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    overspends, lost, mismatches = check(data, load)
    print(
        f"# ledger_verify: {len(mismatches)} mismatches{': ' + mismatches[0] if mismatches else ''}",
        flush=True,
    )
    print(f"BENCH ledger_p95_ms {p95:.1f} ms", flush=True)
    print(f"BENCH ledger_wallet_get_p95_ms {get95:.1f} ms", flush=True)
    print(f"BENCH ledger_p95_vs_wallet_get_ratio {p95 / get95:.2f} x", flush=True)
    print(f"BENCH ledger_requests_per_s {load.answered / wall:.1f} req/s", flush=True)
    print(f"BENCH ledger_overspends {overspends} count", flush=True)
    print(f"BENCH ledger_verify_mismatches {len(mismatches)} count", flush=True)
    print(f"BENCH ledger_lost_postings {lost} count", flush=True)
    print(f"BENCH ledger_server_errors {server_errors} count", flush=True)


def main() -> None:
    admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
    admin_sql(f"CREATE DATABASE {DB}")
    try:
        setup_django()
        t0 = time.perf_counter()
        data = build_data()
        print(f"# seeded {PATIENTS} patients' wallets in {time.perf_counter() - t0:.1f} s", flush=True)
        bench_http(data)
    finally:
        from django.db import connections

        connections.close_all()
        admin_sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


if __name__ == "__main__":
    main()
