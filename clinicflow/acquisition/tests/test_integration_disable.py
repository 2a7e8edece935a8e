"""Disabling an integration takes effect at once in every worker process: a process that cached the
integration as active refuses the very next delivery after the change is committed elsewhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client

from clinicflow.acquisition.ingestion import senders
from clinicflow.acquisition.integrations import services as integrations
from clinicflow.acquisition.models import Call
from clinicflow.acquisition.tests.conftest import load

ROOT = Path(__file__).resolve().parents[3]

# A second worker process: Django on the same database and the same shared cache, answering one
# webhook delivery per line read ("<call id>" -> the status code; "cached" -> rows it has cached).
WORKER = textwrap.dedent(
    """
    import json, sys
    import django
    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment
    setup_test_environment()
    from clinicflow.acquisition.ingestion import senders
    path, body = sys.argv[1], json.loads(sys.argv[2])
    print("ready", flush=True)
    for line in sys.stdin:
        word = line.strip()
        if word == "cached":
            print(sum(1 for v in senders._cache.values() if v[-1] is not None), flush=True)
            continue
        r = Client().post(path, data=json.dumps({**body, "call_id": word}), content_type="application/json")
        print(r.status_code, flush=True)
    """
)


def _database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "") + (":" + quote(s["PASSWORD"]) if s["PASSWORD"] else "")
    return f"postgresql://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    def __init__(self, path: str, body: dict[str, Any]) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "DJANGO_SETTINGS_MODULE": "config.settings_test",
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, path, json.dumps(body)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.ask(None) == "ready"

    def ask(self, word: str | None) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if word is not None:
            self.proc.stdin.write(word + "\n")
            self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_process_that_cached_the_integration_refuses_it_once_disabled_elsewhere(
    org: Any, make_integration: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("a second process needs a database both processes open (PostgreSQL)")
    integration, secret = make_integration("generic")
    worker = Worker(integrations.webhook_path("generic", secret), load("generic", "g2_missed.json"))
    try:
        assert worker.ask("call-1") in ("200", "201")
        assert worker.ask("cached") == "1"  # the worker holds the integration as active
        started = time.monotonic()
        integrations.integration_set_active(org=org, actor=None, integration=integration, active=False)
        answer = worker.ask("call-2")
        elapsed = time.monotonic() - started
    finally:
        worker.close()
    assert answer == "404"
    assert elapsed < senders._CACHE_TTL  # refused inside the window the old cache would have served
    assert list(Call.objects.for_org(org).values_list("provider_call_id", flat=True)) == ["call-1"]


def test_a_cached_active_integration_is_dropped_by_a_change_committed_in_another_process(
    org: Any, make_integration: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The same on SQLite, in one process: the row another process cached (with the generation it
    read) is not trusted once the change is committed, although that process's dict was not cleared."""
    integration, secret = make_integration("generic")
    path = integrations.webhook_path("generic", secret)
    assert (
        Client()
        .post(path, data=json.dumps(load("generic", "g2_missed.json")), content_type="application/json")
        .status_code
        < 300
    )
    other_process = dict(senders._cache)  # what a second worker would hold right now
    assert [v[-1] for v in other_process.values()] == [integration]
    with django_capture_on_commit_callbacks(execute=True):
        integrations.integration_set_active(org=org, actor=None, integration=integration, active=False)
    senders._cache.update(other_process)  # that worker's dict was never cleared
    again = json.dumps({**load("generic", "g2_missed.json"), "call_id": "another-call"})
    assert Client().post(path, data=again, content_type="application/json").status_code == 404


def test_when_the_shared_cache_is_down_nothing_cached_is_trusted(
    org: Any, make_integration: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    integration, secret = make_integration("generic")
    assert senders.integration_for("generic", secret) == integration

    class Down:
        def get(self, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("store down")

    monkeypatch.setattr(senders, "caches", {"default": Down()})
    integration.is_active = False
    integration.save(update_fields=["is_active"])  # a change this process was not told about
    assert senders.integration_for("generic", secret) is None
