"""Helpers for benchmark scripts: a scratch database and Django set-up."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

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
