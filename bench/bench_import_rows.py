"""Import benchmark on a scratch PostgreSQL database ``cf_imports_bench``: a CSV of 500,000 patients
(names, E.164 phone, e-mail: validated, deduplicated against the clinic's patients by phone and e-mail
blind index, encrypted, stored with the source-id map), then a CSV of visits (appointments with
services and doctors) that reference them.

    .venv/bin/python bench/bench_import_rows.py [--patients 500000] [--visits 500000]

Both imports run in one child process of its own, so its peak memory is the imports' alone (the files
are streamed, never held whole). Prints ``BENCH import_rows_per_s`` (the patients file),
``BENCH import_visit_rows_per_s``, ``BENCH import_peak_mib`` and the anchor: PostgreSQL's raw COPY of
the same stored rows (patients and their phones; appointments) into tables with the same indexes, and
each import's time as a multiple of it. ``BENCH_DB`` names the scratch database (default
``cf_imports_bench``; dropped and created again), ``BENCH_PG`` the server."""

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
DB = os.environ.get("BENCH_DB", "cf_imports_bench")
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
        out.writerow(["client id", "Last name", "First name", "Phone", "E-mail"])
        for i in range(patients):
            out.writerow([f"c{i}", f"Last{i}", f"First{i}", f"+7916{i:07d}", f"p{i}@example.org"])
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


def child(ppath: str, vpath: str) -> None:
    import django

    django.setup()
    from django.conf import settings

    settings.MEDIA_ROOT = os.environ.get("MEDIA_ROOT", str(settings.MEDIA_ROOT))
    p_elapsed, p_message = _import(Path(ppath), "patients")
    print(f"patients {p_elapsed:.3f} {p_message}", flush=True)
    v_elapsed, v_message = _import(Path(vpath), "visits") if vpath else (0.0, "")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"visits {v_elapsed:.3f} {v_message}", flush=True)
    print(f"peak {peak:.1f}", flush=True)


def anchor(tables: tuple[str, ...]) -> float:
    """Raw COPY of the imported rows of ``tables`` into tables with the same indexes."""
    import psycopg

    elapsed = 0.0
    with psycopg.connect(f"{PG}/{DB}", autocommit=True) as conn:
        for table in tables:
            conn.execute("DROP TABLE IF EXISTS anchor_copy")
            conn.execute(f"CREATE TABLE anchor_copy (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)")
            with tempfile.TemporaryFile() as buf:
                with conn.cursor().copy(f"COPY {table} TO STDOUT") as copy:
                    for data in copy:
                        buf.write(data)
                buf.seek(0)
                started = time.perf_counter()
                with conn.cursor().copy("COPY anchor_copy FROM STDIN") as copy:
                    while chunk := buf.read(1 << 20):
                        copy.write(chunk)
            elapsed += time.perf_counter() - started
            conn.execute("DROP TABLE anchor_copy")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=500_000, help="rows of the patients file")
    parser.add_argument("--visits", type=int, default=500_000, help="rows of the visits file (0: none)")
    parser.add_argument("--child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
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
    env = {**os.environ, "MEDIA_ROOT": str(media)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(ppath), str(vpath) if args.visits else ""],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        print(done.stdout, done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(1)
    lines = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in done.stdout.strip().splitlines()}
    p_s, p_message = lines["patients"].split(" ", 1)
    v_s, v_message = lines["visits"].split(" ", 1) if args.visits else ("0", "")
    p_elapsed, v_elapsed, peak = float(p_s), float(v_s), float(lines["peak"])
    print(f"   patients: {p_message}")
    p_copy = anchor(("patients_patient", "patients_patientphone"))
    print(f"BENCH import_rows_per_s {args.patients / p_elapsed:.0f} rows/s")
    print(
        f"   patients: import {p_elapsed:.1f} s; raw COPY of the same stored rows {p_copy:.1f} s; "
        f"ratio {p_elapsed / p_copy:.1f}x"
    )
    if args.visits:
        print(f"   visits: {v_message}")
        v_copy = anchor(("booking_appointment",))
        print(f"BENCH import_visit_rows_per_s {args.visits / v_elapsed:.0f} rows/s")
        print(
            f"   visits: import {v_elapsed:.1f} s; raw COPY of the same stored rows {v_copy:.1f} s; "
            f"ratio {v_elapsed / v_copy:.1f}x"
        )
    print(f"BENCH import_peak_mib {peak:.0f} MiB")


if __name__ == "__main__":
    main()
