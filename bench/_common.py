"""Helpers for benchmark scripts: a scratch database and Django set-up."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def setup_django(database: str = "sqlite", name: str = "bench") -> str:
    """Point Django at a fresh scratch database ("sqlite" file or "postgres" database) and migrate it."""
    if database == "postgres":
        host = os.environ.get("PGHOST", "127.0.0.1")
        subprocess.run(
            [
                "psql",
                "-h",
                host,
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-qc",
                f"DROP DATABASE IF EXISTS {name}",
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["psql", "-h", host, "-U", "postgres", "-d", "postgres", "-qc", f"CREATE DATABASE {name}"],
            check=True,
            capture_output=True,
        )
        os.environ["DATABASE_URL"] = f"postgresql://postgres@{host}:5432/{name}"
    else:
        path = Path(tempfile.mkdtemp(prefix="cfbench-")) / f"{name}.sqlite3"
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = str(path)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return os.environ.get("DATABASE_URL") or os.environ["SQLITE_PATH"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def seed_two_clinics(others: int, fill: Any) -> tuple[Any, Any]:
    """Two organisations ("bench" and "other"), each with a branch, a laser service, a doctor and
    ``others + 1`` patients; ``fill(org, branch, patients, service, doctor, slug)`` writes each one's
    rows (inside its transaction). Returns the bench organisation's first patient and an owner."""
    import time
    from decimal import Decimal

    from django.db import transaction

    from clinicflow.accounts.roles import Role
    from clinicflow.accounts.services import user_create
    from clinicflow.booking.models import Doctor
    from clinicflow.catalogue.models import RoomType, Service
    from clinicflow.core.services import branch_create, organization_create
    from clinicflow.patients.models import Patient

    started = time.perf_counter()
    card_patient, owner = None, None
    for slug in ("bench", "other"):
        org = organization_create(name=slug.title(), slug=slug, country="RU", currency="RUB")
        branch = branch_create(org=org, name="Main", slug="main", timezone="Europe/Moscow")
        with transaction.atomic():
            service = Service.objects.create(
                organization=org,
                code="laser",
                name="Laser resurfacing",
                category="laser",
                duration_minutes=60,
                room_type=RoomType.LASER,
                price=Decimal("5000.00"),
                currency="RUB",
            )
            doctor = Doctor.objects.create(organization=org, full_name="Dr Petrova")
            patients = Patient.objects.bulk_create(
                [
                    Patient(
                        organization=org,
                        branch=branch,
                        last_name=f"Last{i}",
                        first_name=f"First{i}",
                        search_name=f"last{i} first{i}",
                    )
                    for i in range(others + 1)
                ],
                batch_size=2000,
            )
            fill(org, branch, patients, service, doctor, slug)
        if slug == "bench":
            card_patient = patients[0]
            owner = user_create(
                org=org,
                actor=None,
                email="owner@bench.test",
                password="correct horse battery staple",  # pragma: allowlist secret
                role=Role.OWNER,
                validate=False,
            )
    print(f"   loaded 2 x {others + 1} patients in {time.perf_counter() - started:.1f} s", flush=True)
    return card_patient, owner


# the HTTP load benchmarks' harness (bench_booking, bench_ledger): a scratch PostgreSQL database
# created and dropped through the admin connection, gunicorn on a free loopback port, percentiles


def admin_sql(sql: str) -> None:
    """Run ``sql`` (CREATE / DROP DATABASE) on the server's ``postgres`` database, autocommit."""
    import psycopg

    host = os.environ.get("PGHOST", "127.0.0.1")
    port = os.environ.get("PGPORT", "5432")
    user = os.environ.get("PGUSER", "postgres")
    with psycopg.connect(f"postgresql://{user}@{host}:{port}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(port: int, url: str) -> subprocess.Popen[bytes]:
    """gunicorn with ``config/gunicorn.py`` and persistent database connections, on ``url``: the
    development profile with DEBUG off (plain HTTP on loopback; gunicorn's default is production);
    ``BENCH_WORKERS`` / ``BENCH_THREADS`` override its layout, ``BENCH_SERVER_LOG`` keeps its log."""
    import sys

    env = {**os.environ, "CLINICFLOW_ENV": "development", "DATABASE_URL": url, "DEBUG": "0"}
    env.update(DB_CONN_MAX_AGE="60", BIND=f"127.0.0.1:{port}", WEB_LOG_LEVEL="warning", WEB_TIMEOUT="120")
    if os.environ.get("BENCH_WORKERS"):
        env["WEB_WORKERS"] = os.environ["BENCH_WORKERS"]
    if os.environ.get("BENCH_THREADS"):
        env["WEB_THREADS"] = os.environ["BENCH_THREADS"]
    log = open(os.environ.get("BENCH_SERVER_LOG", os.devnull), "w")  # noqa: SIM115
    cmd = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--chdir", str(ROOT)]
    cmd += ["-c", str(ROOT / "config" / "gunicorn.py")]
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=log)


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest lower rank; NaN when empty."""
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))] if ordered else float("nan")


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"
