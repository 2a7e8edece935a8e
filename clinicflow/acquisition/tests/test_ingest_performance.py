"""Webhook ingestion under load: the query budget of one event and concurrent deliveries of one call."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinicflow.acquisition import ingestion
from clinicflow.acquisition.integrations import services as integrations
from clinicflow.acquisition.models import Call, CallbackTask, NumberPool, TrackingNumber
from clinicflow.acquisition.providers import PROVIDERS

T0 = dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC)


def event_body(call_id: str, status: str = "completed", caller: str = "+79161234567") -> bytes:
    return json.dumps(
        {
            "call_id": call_id,
            "event": status,
            "caller": caller,
            "called": "+74951000001",
            "started_at": T0.isoformat(),
            "duration": 42,
        }
    ).encode()


@pytest.mark.django_db
def test_a_new_event_and_its_duplicate_stay_within_the_query_budget(
    org: Any, branch: Any, make_integration: Any
) -> None:
    TrackingNumber.objects.create(
        organization=org, e164="+74951000001", pool=NumberPool.DYNAMIC, branch=branch
    )
    _, secret = make_integration("generic")
    path = integrations.webhook_path("generic", secret)
    client = Client()
    # Warm-up: the integration, number, channel and settings lookups are cached per process.
    warm = client.post(path, data=event_body("warm", caller="+79160000000"), content_type="application/json")
    assert warm.status_code == 201
    with CaptureQueriesContext(connection) as new:
        first = client.post(path, data=event_body("c-1", "missed"), content_type="application/json")
    with CaptureQueriesContext(connection) as dup:
        again = client.post(path, data=event_body("c-1", "missed"), content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {**first.json(), "created": False, "changed": False}
    assert Call.objects.for_org(org).filter(provider_call_id="c-1").count() == 1
    assert CallbackTask.objects.for_org(org).filter(call__provider_call_id="c-1").count() == 1
    # Each delivery also reads the shared integration generation (``ingestion.senders``): one key of
    # the shared cache — Redis in production, the database cache table in the tests — counted apart.
    generation_reads = [
        q["sql"] or ""
        for q in [*new.captured_queries, *dup.captured_queries]
        if "clinicflow_cache" in (q["sql"] or "")
    ]
    assert len(generation_reads) <= 2
    statements = [
        q["sql"] or ""
        for q in new.captured_queries
        if not (q["sql"] or "").upper().startswith(("SAVEPOINT", "RELEASE"))
        and "clinicflow_cache" not in q["sql"]
    ]
    dup_statements = [
        q["sql"] or ""
        for q in dup.captured_queries
        if not (q["sql"] or "").upper().startswith(("SAVEPOINT", "RELEASE"))
        and "clinicflow_cache" not in q["sql"]
    ]
    if connection.vendor == "postgresql":
        # One statement each: the upsert carries the unique flag, patient match, attribution and callback.
        assert len(statements) == 1
        assert len(dup_statements) == 1
    else:
        # the portable ORM path; 3 of them announce the call to the daily facts (its callbacks and the
        # caller's later calls read, the changes written: ``ingest._written``)
        assert len(statements) <= 15
        assert len(dup_statements) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_event_fired_from_several_threads_makes_exactly_one_call(org: Any, branch: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent upserts need PostgreSQL")
    TrackingNumber.objects.create(
        organization=org, e164="+74951000001", pool=NumberPool.DYNAMIC, branch=branch
    )
    integration, _secret = integrations.integration_create(org=org, actor=None, provider="generic")
    spec = PROVIDERS["generic"]
    statuses = ["completed", "ringing", "answered", "completed", "missed", "completed", "answered", "ringing"]
    barrier = threading.Barrier(len(statuses))
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def fire(status: str) -> None:
        try:
            payload = json.loads(event_body("same-1", status))
            barrier.wait(timeout=10)
            result = ingestion.call_ingest(
                org=org,
                integration=integration,
                provider="generic",
                event=spec.normalise(payload),
                payload=payload,
            )
            with lock:
                results.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=fire, args=(s,)) for s in statuses]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(results) == len(statuses)
    calls = list(Call.objects.for_org(org).filter(provider_call_id="same-1"))
    assert len(calls) == 1
    call = calls[0]
    assert (call.status, call.status_rank, call.duration) == ("completed", 3, 42)
    assert sum(1 for r in results if r.created) == 1
    assert {r.call.pk for r in results} == {call.pk}
    assert CallbackTask.objects.for_org(org).filter(call=call).count() <= 1

    # The identical event again from every thread: nothing is created or changed.
    barrier.reset()
    results.clear()
    threads = [threading.Thread(target=fire, args=("completed",)) for _ in statuses]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert [(r.created, r.changed, r.call.status) for r in results] == [(False, False, "completed")] * len(
        statuses
    )
    assert Call.objects.for_org(org).count() == 1


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_the_event_statement_is_prepared_once_per_connection(
    org: Any, branch: Any, make_integration: Any, settings: Any
) -> None:
    """The upsert is planned once per connection and then run from PostgreSQL's plan cache (planning
    it cost ~2 ms of the ~3 ms PostgreSQL spent per event); with the setting off nothing is prepared."""
    TrackingNumber.objects.create(
        organization=org, e164="+74951000001", pool=NumberPool.DYNAMIC, branch=branch
    )
    _, secret = make_integration("generic")
    path = integrations.webhook_path("generic", secret)
    client = Client()

    def prepared() -> int:
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'WITH cur AS%%'")
            return int(cur.fetchone()[0])

    settings.DB_PREPARED_STATEMENTS = False
    assert client.post(path, data=event_body("p-0"), content_type="application/json").status_code == 201
    assert prepared() == 0
    settings.DB_PREPARED_STATEMENTS = True
    for i in range(1, 4):
        r = client.post(
            path, data=event_body(f"p-{i}", caller=f"+7916123456{i}"), content_type="application/json"
        )
        assert r.status_code == 201
    assert prepared() == 1  # one shape of the statement, prepared once, reused
    assert Call.objects.for_org(org).filter(provider_call_id__startswith="p-").count() == 4
