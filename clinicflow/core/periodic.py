"""Periodic jobs: each app lists its own on its AppConfig as ``periodic = [(dotted path, seconds)]``.

A job is a function without arguments that does a bounded, idempotent unit of work and returns a
one-line summary. ``clinicflow worker`` runs the due ones (``run_due``) between polls of the outbox;
a cache lock (``cache.add``, expiring with the interval) keeps two workers from running the same job
in the same interval, and idempotency keeps a rerun harmless when the lock is lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.core.cache import cache
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    path: str
    every_s: int

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def function(self) -> Callable[[], str]:
        fn: Callable[[], str] = import_string(self.path)
        return fn


def registered() -> list[Job]:
    """Every app's periodic jobs, in the order of INSTALLED_APPS."""
    out: list[Job] = []
    for config in apps.get_app_configs():
        for path, every in getattr(config, "periodic", ()):
            out.append(Job(str(path), int(every)))
    return out


class Scheduler:
    """Remembers when this process last ran each job; ``run_due`` runs those whose interval passed."""

    def __init__(self, jobs: list[Job] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.jobs = registered() if jobs is None else jobs
        self.clock = clock
        self.last: dict[str, float] = {}

    def run_due(self, *, force: bool = False) -> list[str]:
        """Run the due jobs (all of them with ``force``); one summary line per job run."""
        lines = []
        for job in self.jobs:
            now = self.clock()
            if not force and now - self.last.get(job.path, -1e18) < job.every_s:
                continue
            self.last[job.path] = now
            if not force and not cache.add(f"periodic:{job.path}", 1, timeout=max(job.every_s - 1, 1)):
                continue  # another worker holds this interval
            try:
                lines.append(f"{job.name}: {job.function()()}")
            except Exception as exc:  # one failing job never stops the others or the outbox
                logger.exception("periodic job %s failed", job.path)
                lines.append(f"{job.name}: failed ({type(exc).__name__}: {exc})")
        return lines
