"""Import benchmark: a CSV of 500,000 visits (appointments with services and doctors) into a scratch
PostgreSQL database ``bench_import``, after 50,000 patients imported from their own CSV.

    .venv/bin/python bench/import_rows.py [--visits 500000] [--patients 50000]

The visit import runs in a child process of its own, so its peak memory is the import's alone. Prints
``BENCH import_rows_per_s``, ``BENCH import_peak_mib`` and the anchor: PostgreSQL's raw COPY of the same
rows into a table with the same indexes, and the import's time as a multiple of it."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
DB = "bench_import"
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
os.environ["DATABASE_URL"] = f"{PG}/{DB}"
os.environ["DEBUG"] = "0"
os.environ["LOG_LEVEL"] = "WARNING"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SERVICES = [
    "Консультация",
    "Laser face",
    "Botox",
    "Filler lips",
    "Peel",
    "Body RF",
    "Laser legs",
    "Mesotherapy",
]
DOCTORS = [f"Doctor {i}" for i in range(12)]


def write_files(folder: Path, patients: int, visits: int) -> tuple[Path, Path]:
    rnd = random.Random(20)
    ppath, vpath = folder / "patients.csv", folder / "visits.csv"
    with ppath.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["client id", "Last name", "First name", "Phone"])
        for i in range(patients):
            out.writerow([f"c{i}", f"Last{i}", f"First{i}", f"+7916{i:07d}"])
    start = dt.datetime(2021, 1, 4, 9, 0)
    with vpath.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["visit id", "client id", "date", "time", "service", "doctor", "price", "status"])
        for i in range(visits):
            when = start + dt.timedelta(minutes=30 * i // 3)
            out.writerow([
                f"v{i}", f"c{rnd.randrange(patients)}", when.strftime("%d.%m.%Y"), when.strftime("%H:%M"),
                rnd.choice(SERVICES), rnd.choice(DOCTORS), f"{rnd.randrange(1000, 30000)}.00",
                rnd.choice(("done", "done", "done", "cancelled", "no_show")),
            ])  # fmt: skip
    return ppath, vpath


def _import(path: Path, kind: str) -> tuple[float, str]:
    from clinicflow.core.models import Organization
    from clinicflow.core.selectors import branch_list
    from clinicflow.imports import services
    from clinicflow.imports.engine import fields as specs
    from clinicflow.imports.files import open_source, read_table

    org = Organization.objects.get(slug="bench")
    branch = branch_list(org=org)[0]
    columns = specs.guess_mapping(kind, read_table(open_source(path, "csv")).headers)
    with path.open("rb") as stream:
        name, ext = services.store_upload(
            org=org, stream=stream, size=path.stat().st_size, filename=path.name
        )
    job = services.job_create(
        org=org, actor=None, branch=branch, kind=kind, source="legacy", stored_name=name, ext=ext,
        filename=path.name, columns=columns, mode="skip-bad",
    )  # fmt: skip
    started = time.perf_counter()
    job = services.job_run(job=job)
    elapsed = time.perf_counter() - started
    assert job.status == "done", job.message
    return elapsed, job.message


def child(path: str) -> None:
    import django

    django.setup()
    from django.conf import settings

    settings.MEDIA_ROOT = os.environ.get("MEDIA_ROOT", str(settings.MEDIA_ROOT))
    elapsed, message = _import(Path(path), "visits")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{elapsed:.3f} {peak:.1f} {message}")


def anchor() -> float:
    """Raw COPY of the imported appointment rows into a table with the same indexes."""
    import psycopg

    with psycopg.connect(f"{PG}/{DB}", autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS anchor_appt")
        conn.execute(
            "CREATE TABLE anchor_appt (LIKE booking_appointment INCLUDING DEFAULTS INCLUDING INDEXES)"
        )
        with tempfile.TemporaryFile() as buf:
            with conn.cursor().copy("COPY booking_appointment TO STDOUT") as copy:
                for data in copy:
                    buf.write(data)
            buf.seek(0)
            started = time.perf_counter()
            with conn.cursor().copy("COPY anchor_appt FROM STDIN") as copy:
                while chunk := buf.read(1 << 20):
                    copy.write(chunk)
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE anchor_appt")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--visits", type=int, default=500_000)
    parser.add_argument("--patients", type=int, default=50_000)
    parser.add_argument("--child", default="")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    from _common import setup_django

    setup_django("postgres", DB)
    from django.conf import settings

    from clinicflow.core.services import branch_create, organization_create

    media = Path(tempfile.mkdtemp(prefix="cf-import-bench-"))
    settings.MEDIA_ROOT = str(media)
    org = organization_create(name="Bench", slug="bench", country="RU", currency="RUB")
    branch_create(org=org, name="Moscow", slug="moscow", timezone="Europe/Moscow")
    ppath, vpath = write_files(media, args.patients, args.visits)
    seconds, _message = _import(ppath, "patients")
    print(f"   patients: {args.patients} in {seconds:.1f} s", flush=True)
    env = {**os.environ, "MEDIA_ROOT": str(media)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(vpath)], env=env, capture_output=True, text=True, check=True
    )
    elapsed_s, peak_s, message = done.stdout.strip().splitlines()[-1].split(" ", 2)
    elapsed, peak = float(elapsed_s), float(peak_s)
    print(f"   visits: {message}")
    copy_s = anchor()
    print(f"BENCH import_rows_per_s {args.visits / elapsed:.0f} rows/s")
    print(f"BENCH import_peak_mib {peak:.0f} MiB")
    print(
        f"   import {elapsed:.1f} s; raw COPY of the same rows {copy_s:.1f} s; ratio {elapsed / copy_s:.1f}x"
    )


if __name__ == "__main__":
    main()
