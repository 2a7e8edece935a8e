"""Run the benchmarks: `make bench` (all) or `make bench ONLY=<name>` (bench/bench_<name>.py).

Each benchmark is a script that prints lines `BENCH <metric> <value> <unit>`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    only = argv[0] if argv else ""
    scripts = sorted(HERE.glob("bench_*.py"))
    if only:
        scripts = [s for s in scripts if s.stem == f"bench_{only}"]
        if not scripts:
            names = ", ".join(s.stem.removeprefix("bench_") for s in sorted(HERE.glob("bench_*.py")))
            print(f"unknown benchmark {only!r}; available: {names}", file=sys.stderr)
            return 2
    failed = 0
    for script in scripts:
        print(f"== {script.stem.removeprefix('bench_')}", flush=True)
        started = time.perf_counter()
        # One BLAS thread: on 2 cores, NumPy's thread pool only oversubscribes the CPU (the CLV fit is
        # 1.6 s with one thread and 2.4-5.9 s with the default pool on this machine).
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, env=env)
        print(f"   ({time.perf_counter() - started:.1f} s)", flush=True)
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
