"""Where a full rebuild's time goes (``clinicflow analytics rebuild``, issue #17): every statement the
rebuild runs is timed and charged to its phase — the module of the owner's facts that issued it (the
innermost caller in ``clinicflow.analytics.owner`` other than the shared SQL helpers: ``facts_firsts``
the patients' first visits, ``facts_load`` the working windows, ``facts_sql`` the day and revenue
facts, ``cohort_facts``, ``channel_facts``, ``capload_facts`` ...). A line is written when a phase
hands over after a stretch of at least ``REPORT_S`` seconds (the progress of the long phases as they
end) and a summary of every phase at the end: its wall time (from its first statement to the next
phase's) and its statements' time. Installed as a Django ``execute_wrapper``: nothing is changed in the
statements, and nothing runs when no one asks for the phases."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

PACKAGE = "clinicflow.analytics.owner."
# modules that run statements for others (their caller is the phase)
HELPERS = frozenset({"factsql", "rebuild_phases", "facts_write", "fact_clear", "fact_ids"})
REPORT_S = 1.0  # a stretch of a phase at least this long gets its own progress line


def phase_of_caller() -> str:
    """The owner module that issued the statement being run (``other`` outside them)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = str(frame.f_globals.get("__name__", ""))
        if name.startswith(PACKAGE):
            short = name[len(PACKAGE) :]
            if short not in HELPERS:
                return short
        frame = frame.f_back  # type: ignore[assignment]
    return "other"


class PhaseClock:
    """A Django execute wrapper that charges each statement's time to its phase."""

    def __init__(self, report: Callable[[str], None], slow: float | None = None) -> None:
        self.report = report
        self.slow = slow
        self.wall: dict[str, float] = {}
        self.sql: dict[str, float] = {}
        self.statements: dict[str, int] = {}
        self.current: str | None = None
        self.since = time.perf_counter()
        self.began = self.since

    def _switch(self, phase: str | None) -> None:
        now = time.perf_counter()
        if self.current is not None:
            spent = now - self.since
            self.wall[self.current] = self.wall.get(self.current, 0.0) + spent
            if spent >= REPORT_S:
                self.report(f"phase {self.current}: {spent:.1f} s [{now - self.began:.1f} s]")
        self.current, self.since = phase, now

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        phase = phase_of_caller()
        if phase != self.current:
            self._switch(phase)
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = time.perf_counter() - t
            self.sql[phase] = self.sql.get(phase, 0.0) + spent
            self.statements[phase] = self.statements.get(phase, 0) + 1
            if self.slow is not None and spent >= self.slow:
                self.report(f"  {phase} statement {spent:.2f} s: {' '.join(sql.split())[:160]}")

    def summary(self) -> str:
        self._switch(None)
        parts = [
            f"{name} {wall:.1f} s ({self.statements.get(name, 0)} statements, "
            f"{self.sql.get(name, 0.0):.1f} s SQL)"
            for name, wall in sorted(self.wall.items(), key=lambda kv: -kv[1])
        ]
        return "phases: " + "; ".join(parts)


@contextmanager
def timed_phases(report: Callable[[str], None] | None, slow: float | None = None) -> Iterator[None]:
    """Time the phases of the statements run inside (``report`` None: nothing timed); the summary
    line is reported at the end, and (``slow``) each statement taking at least that many seconds."""
    if report is None:
        yield
        return
    clock = PhaseClock(report, slow)
    with connection.execute_wrapper(clock):
        try:
            yield
        finally:
            report(clock.summary())
