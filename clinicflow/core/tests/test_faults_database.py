"""PostgreSQL lost while bookings and call events arrive, for real: a gunicorn server reaches the test
database through a TCP proxy that the test cuts (in the middle of a transaction, then altogether),
and, in the second test, PostgreSQL terminates the server's connections (what a restart looks like
to the application). Every request in the outage gets 503 with ``Retry-After`` and no detail (an HTML
page, or the JSON error shape for the webhook and the API); nothing half-written is left; the same
server process answers normally once the database is back, without a restart.

The shared PostgreSQL server is never disturbed: only the proxy is cut, and only this test's
server's own backends are terminated. PostgreSQL only (the server must see committed rows)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from clinicflow.acquisition.models import Call
from clinicflow.booking.models import Appointment, BookingCode
from clinicflow.core.onetime import one_time_code
from clinicflow.core.tests.live_servers import (
    Answer,
    Client,
    LiveClinic,
    Server,
    TcpProxy,
    database_url,
    forget_keys,
)
from clinicflow.messaging.models import Message
from clinicflow.patients.models import Patient

pytestmark = pytest.mark.postgres
REDIS_URL = os.environ.get("REDIS_URL", "")
CODE_ID = re.compile(r"/confirm/([^/]+)/$")


@dataclass(frozen=True)
class Rows:
    codes: int
    code_messages: int
    patients: int
    appointments: int
    calls: int

    @classmethod
    def now(cls) -> Rows:
        return cls(
            codes=BookingCode.objects.count(),
            code_messages=Message.objects.filter(kind="booking_code").count(),
            patients=Patient.objects.count(),
            appointments=Appointment.objects.count(),
            calls=Call.objects.count(),
        )


def _leaks(answer: Answer) -> list[str]:
    """Details of the failure that must never reach a client."""
    conf = connection.settings_dict
    words = ["Traceback", "OperationalError", "InterfaceError", "psycopg", "Exception", str(conf["NAME"])]
    return [w for w in words if w.lower() in answer.text.lower()]


def assert_unavailable_page(answer: Answer) -> None:
    assert answer.status == 503, answer.text[:500]
    assert answer.headers["retry-after"] == "30"
    assert answer.headers["content-type"].startswith("text/html")
    assert "Temporarily unavailable" in answer.text
    assert _leaks(answer) == []
    assert answer.headers.get("x-frame-options") == "DENY"  # the security headers are kept


def assert_unavailable_json(answer: Answer) -> None:
    assert answer.status == 503, answer.text[:500]
    assert answer.headers["retry-after"] == "30"
    assert answer.json()["error"]["code"] == "service_unavailable"
    assert _leaks(answer) == []


def _code(answer: Answer) -> str:
    found = CODE_ID.search(answer.headers["location"])
    assert found is not None, answer.headers
    return one_time_code(found.group(1))


def _server_env(prefix: str, db_port: int | None = None, **extra: str) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url(port=db_port),
        "DB_CONN_MAX_AGE": "60",  # a kept connection, as in production: the one that breaks
        "CACHE_KEY_PREFIX": prefix,  # this test's own keys in the shared store
        **extra,
    }
    if REDIS_URL:
        env["REDIS_URL"] = REDIS_URL
    return env


@pytest.fixture
def prefix() -> Iterator[str]:
    value = f"t-{uuid.uuid4().hex[:12]}"
    yield value
    if REDIS_URL:
        forget_keys(REDIS_URL, value)


@pytest.fixture
def clinic(transactional_db: Any) -> LiveClinic:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the server must see the test's committed rows")
    return LiveClinic.create()


@pytest.fixture
def proxied(clinic: LiveClinic, prefix: str, tmp_path: Path) -> Iterator[tuple[TcpProxy, Server]]:
    conf = connection.settings_dict
    proxy = TcpProxy((conf["HOST"] or "127.0.0.1", int(conf["PORT"] or 5432)))
    server = Server(tmp_path / "server.log", _server_env(prefix, proxy.port), workers=1)
    try:
        yield proxy, server.start()
    finally:
        server.stop()
        proxy.cut()


def test_postgresql_lost_mid_transaction_and_down_gets_503_and_nothing_half_written(
    clinic: LiveClinic, proxied: tuple[TcpProxy, Server]
) -> None:
    proxy, server = proxied
    pid = server.proc.pid if server.proc else None
    visitor = Client(server.port)
    token = clinic.csrf_token(visitor, clinic.start(9))
    before = Rows.now()

    # running normally: a code, a booking, a call event
    asked = clinic.request_code(visitor, token, clinic.start(9), "+79165551001")
    assert asked.status == 302
    assert clinic.confirm(visitor, token, asked.headers["location"], _code(asked)).status == 302
    assert clinic.call_event(visitor, "live-1").status == 201

    # lost inside a code request's transaction: its code row was inserted, its outbox message not yet
    proxy.cut_on(b'INSERT INTO "messaging_message"')
    assert_unavailable_page(clinic.request_code(visitor, token, clinic.start(10), "+79165551002"))
    assert proxy.fired == 1

    # lost inside a booking's transaction: the new patient was inserted, the appointment not yet
    asked = clinic.request_code(visitor, token, clinic.start(11), "+79165551003")  # reconnected
    assert asked.status == 302
    proxy.cut_on(b'INSERT INTO "booking_appointment"')
    assert_unavailable_page(clinic.confirm(visitor, token, asked.headers["location"], _code(asked)))
    assert proxy.fired == 2

    # lost while a call event is stored
    proxy.cut_on(b"ins AS (INSERT INTO")
    assert_unavailable_json(clinic.call_event(visitor, "live-2"))
    assert proxy.fired == 3

    # down: every connection closed, new ones refused
    proxy.cut()
    assert_unavailable_page(clinic.request_code(visitor, token, clinic.start(12), "+79165551004"))
    assert_unavailable_page(visitor.get(f"/book/{clinic.branch.pk}/"))
    assert_unavailable_json(clinic.call_event(visitor, "live-3"))
    assert_unavailable_json(visitor.get("/api/v1/patients", Authorization="Bearer cf_not_a_token"))

    # back: the same process answers normally, no restart
    proxy.restore()
    asked = clinic.request_code(visitor, token, clinic.start(13), "+79165551005")
    assert asked.status == 302, asked.text[:500]
    assert clinic.confirm(visitor, token, asked.headers["location"], _code(asked)).status == 302
    assert clinic.call_event(visitor, "live-3").status == 201  # the provider's retries
    assert clinic.call_event(visitor, "live-2").status == 201
    assert server.running and server.proc is not None and server.proc.pid == pid

    # exactly what succeeded is stored: three codes (with their messages), two bookings, three calls
    after = Rows.now()
    assert after == Rows(
        codes=before.codes + 3,
        code_messages=before.code_messages + 3,
        patients=before.patients + 2,
        appointments=before.appointments + 2,
        calls=before.calls + 3,
    )
    assert not BookingCode.objects.filter(destination__in=["+79165551002", "+79165551004"]).exists()


def _sessions() -> set[int]:
    """The backends on the test database now: before the server starts, this test process's own."""
    with connection.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return {pid for (pid,) in cur.fetchall()}


def _terminate_server_backends(ours: set[int]) -> int:
    """PostgreSQL ends the server's sessions on the test database: a restart as the application
    sees it, with the shared server itself left running. The test process's own sessions (``ours``,
    taken before the server started: this thread's, a live server thread's, a browser test's) are
    left alone, so later tests never meet a connection killed under them."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND NOT (pid = ANY(%s))",
            [sorted(ours)],
        )
        return len(cur.fetchall())


@pytest.mark.parametrize("health_checks", ["1", "0"], ids=["health-checks", "no-health-checks"])
def test_server_sessions_terminated_by_postgresql_resume_by_themselves(
    clinic: LiveClinic, prefix: str, tmp_path: Path, health_checks: str
) -> None:
    env = _server_env(prefix, DB_CONN_HEALTH_CHECKS=health_checks)
    server = Server(tmp_path / "server.log", env, workers=1)
    ours = _sessions()
    server.start()
    try:
        visitor = Client(server.port)
        token = clinic.csrf_token(visitor, clinic.start(9))
        assert clinic.call_event(visitor, "term-1").status == 201
        before = Rows.now()
        assert _terminate_server_backends(ours) >= 1

        first = clinic.request_code(visitor, token, clinic.start(10), "+79165552001")
        if health_checks == "1":
            # the kept connection is checked before use and replaced: the visitor sees nothing
            assert first.status == 302
        else:
            # used unchecked, it fails once: 503, and Django drops it at the end of the request
            assert_unavailable_page(first)
        again = clinic.request_code(visitor, token, clinic.start(11), "+79165552002")
        assert again.status == 302
        assert _terminate_server_backends(ours) >= 1
        call = clinic.call_event(visitor, "term-2")
        if health_checks == "0":
            assert_unavailable_json(call)
            call = clinic.call_event(visitor, "term-2")
        assert call.status == 201
        assert server.running
    finally:
        server.stop()
    ok = 2 if health_checks == "1" else 1
    assert Rows.now() == Rows(
        codes=before.codes + ok,
        code_messages=before.code_messages + ok,
        patients=before.patients,
        appointments=before.appointments,
        calls=before.calls + 1,
    )
