"""Periodic jobs: due by interval, locked per interval across workers, a failure isolated."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from clinicflow.core.periodic import Job, Scheduler

pytestmark = pytest.mark.django_db

CALLS: list[str] = []


def job_ok() -> str:
    CALLS.append("ok")
    return "3 things done"


def job_broken() -> str:
    raise RuntimeError("disk full")


@pytest.fixture(autouse=True)
def _clean() -> None:
    CALLS.clear()
    cache.clear()


def _jobs() -> list[Job]:
    return [Job(f"{__name__}.job_ok", 60), Job(f"{__name__}.job_broken", 60)]


def test_runs_due_jobs_once_per_interval_and_isolates_failures() -> None:
    now = [1000.0]
    sched = Scheduler(_jobs(), clock=lambda: now[0])
    lines = sched.run_due()
    assert lines == ["job_ok: 3 things done", "job_broken: failed (RuntimeError: disk full)"]
    now[0] += 30
    assert sched.run_due() == []  # not due yet
    assert CALLS == ["ok"]
    cache.clear()  # the other worker's lock has expired too
    now[0] += 31
    assert sched.run_due()[0] == "job_ok: 3 things done"
    assert CALLS == ["ok", "ok"]


def test_second_worker_skips_a_job_the_first_holds() -> None:
    first, second = Scheduler(_jobs()), Scheduler(_jobs())
    assert len(first.run_due()) == 2
    assert second.run_due() == []
    assert CALLS == ["ok"]
    assert len(second.run_due(force=True)) == 2  # --once runs everything


def test_worker_once_runs_the_registered_jobs(capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import call_command

    call_command("worker", "--once")
    out = capsys.readouterr().out
    assert "audit rows linked=" in out
    call_command("worker", "--once", "--jobs-interval", "0")
    assert "periodic" not in capsys.readouterr().out
