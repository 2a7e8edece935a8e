"""Benchmark: the clinic simulator at chain scale (scenario chain-1m) into SQLite and PostgreSQL.

Each run is a child process (`clinicflow migrate`, then `clinicflow simulate`) on a scratch database
— a temporary SQLite file, and the PostgreSQL database ``bench_simulate`` (created and dropped).
Throughput = rows written / the simulation's own elapsed time (structure, generation, writes, index
rebuild and commit; not Django's start-up). Peak memory = the largest ru_maxrss of the simulate
children.

    .venv/bin/python bench/bench_simulate.py                  # 12 of 60 months, 200,000 patients
    .venv/bin/python bench/bench_simulate.py --months 60      # the full chain (1,000,000 patients)
    .venv/bin/python bench/bench_simulate.py --only postgres

Prints ``BENCH simulate_sqlite_rows_per_s``, ``BENCH simulate_postgres_rows_per_s`` and
``BENCH simulate_peak_mib``, each noting the scale run; per backend also the rows per patient and per
patient-month (rows / (patients × months)) of the run and ``simulate_<backend>_chain_1m_extrapolated_s``:
the whole chain's rows (``CHAIN_1M_ROWS``, the last full run's count) at this run's rate — a lower
bound, as the index rebuild grows faster than linearly. The child's progress lines (each month, the
ledger's finish, the index rebuild) are echoed with their elapsed seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
DB = os.environ.get("BENCH_SIMULATE_DB", "bench_simulate")  # a scratch database, dropped after
# rows the whole chain-1m (1,000,000 patients, 60 months, every wing) wrote before its ledger finish
# on 2026-12-05 (74.7 million; the fees earned add about one transaction and two postings per open
# membership)
CHAIN_1M_ROWS = 74_700_000
PHASES = {"month", "done", "ledger", "indexes"}  # the child's progress lines, echoed
CLI = (
    [sys.executable, str(ROOT / "manage.py")]
    if (ROOT / "manage.py").exists()
    else [str(ROOT / ".venv" / "bin" / "clinicflow")]
)


def run(cmd: list[str], env: dict[str, str]) -> tuple[int, int, float]:
    """Run a child; return (exit status, its peak RSS in KiB, its CPU seconds: user + system)."""
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        words = line.split()
        if (words and words[0] in PHASES) or "Error" in line or "error" in line:
            print("   ", line.rstrip(), flush=True)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def psql(sql: str) -> None:
    subprocess.run(["psql", f"{PG}/postgres", "-qc", sql], check=True, capture_output=True)


def one(backend: str, months: int, patients: int, seed: int) -> tuple[float, int, int, int, float]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    tmp = tempfile.mkdtemp(prefix="bench_simulate_")
    if backend == "postgres":
        psql(f"DROP DATABASE IF EXISTS {DB}")
        psql(f"CREATE DATABASE {DB}")
        env["DATABASE_URL"] = f"{PG}/{DB}"
    else:
        env["SQLITE_PATH"] = str(Path(tmp) / "bench.sqlite3")
    truth = Path(tmp) / "truth.json"
    try:
        code, _, _ = run([*CLI, "migrate", "-v0"], env)
        if code:
            raise SystemExit(f"{backend}: migrate failed")
        started = time.perf_counter()
        code, rss, cpu = run(
            [
                *CLI,
                "simulate",
                "--scenario",
                "chain-1m",
                "--org",
                "chain",
                "--create-org",
                "Chain Clinics",
                "--months",
                str(months),
                "--patients",
                str(patients),
                "--seed",
                str(seed),
                "--truth",
                str(truth),
            ],
            env,
        )
        wall = time.perf_counter() - started
        if code:
            raise SystemExit(f"{backend}: simulate failed")
        data = json.loads(truth.read_text())
        rows = sum(data["rows"].values())
        seconds = float(data["elapsed_seconds"])
        print(
            f"    {backend}: {rows:,} rows in {seconds:.1f} s ({wall:.1f} s with start-up), "
            f"{data['patients']:,} patients",
            flush=True,
        )
        return rows / seconds, rows, rss, int(data["patients"]), cpu
    finally:
        if backend == "postgres":
            psql(f"DROP DATABASE IF EXISTS {DB}")
        for p in Path(tmp).glob("*"):
            p.unlink()
        os.rmdir(tmp)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--months", type=int, default=12, help="months of the 60-month chain to run (default 12)")
    ap.add_argument(
        "--patients",
        type=int,
        default=None,
        help="patients (default: 1,000,000 × months / 60, the chain's monthly rate)",
    )
    ap.add_argument("--only", choices=["sqlite", "postgres"], default=None)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    patients = args.patients or round(1_000_000 * args.months / 60)
    note = f"(chain-1m, {args.months} of 60 months, {patients:,} patients)"
    peak = 0
    for backend in ("sqlite", "postgres"):
        if args.only and backend != args.only:
            continue
        rate, rows, rss, made, cpu = one(backend, args.months, patients, args.seed)
        peak = max(peak, rss)
        print(f"BENCH simulate_{backend}_rows_per_s {rate:.0f} rows/s {note}", flush=True)
        print(f"BENCH simulate_{backend}_rows_per_patient {rows / made:.1f} rows {note}", flush=True)
        print(
            f"BENCH simulate_{backend}_rows_per_patient_month {rows / (made * args.months):.2f} rows {note}",
            flush=True,
        )
        # the Python process's own CPU (start-up included; PostgreSQL's backend runs beside it): a
        # figure the other work on a shared machine does not inflate
        print(
            f"BENCH simulate_{backend}_client_cpu_s_per_million_rows {cpu / rows * 1e6:.1f} s {note}",
            flush=True,
        )
        print(
            f"BENCH simulate_{backend}_chain_1m_extrapolated_s {CHAIN_1M_ROWS / rate:.0f} s "
            f"({CHAIN_1M_ROWS:,} rows at this rate) {note}",
            flush=True,
        )
    print(f"BENCH simulate_peak_mib {peak / 1024:.0f} MiB {note}", flush=True)


if __name__ == "__main__":
    main()
