"""The rate-limit counters live in the shared store, not in a process: two gunicorn servers (two
workers each) on two ports, one database and one Redis (or the database cache when no Redis is
configured), count the public booking page's code requests together, and the counts survive a
restart of both.

PostgreSQL only: the servers must see the test's committed rows (``transactional_db``), which an
in-memory SQLite test database cannot offer. The Redis variant runs when ``REDIS_URL`` is set (CI's
PostgreSQL pass); each test keeps its keys under its own ``CACHE_KEY_PREFIX``."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import connection

from clinicflow.booking.services import public
from clinicflow.core.tests.live_servers import Client, LiveClinic, Server, database_url, forget_keys

REDIS_URL = os.environ.get("REDIS_URL", "")
LIMIT = public.PER_DESTINATION[0]


def _settings_caches(env: dict[str, str]) -> str:
    """``config.settings``'s cache backend and key prefix, loaded in a fresh interpreter."""
    code = "import json, config.settings as s; c = s.CACHES['default']; print(c['BACKEND'], c['KEY_PREFIX'])"
    base = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CACHE_KEY_PREFIX"}}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "CLINICFLOW_ENV": "development", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_without_redis_url_the_shared_store_is_the_database_cache() -> None:
    assert _settings_caches({}) == "django.core.cache.backends.db.DatabaseCache"


def test_with_redis_url_the_shared_store_is_redis_with_the_key_prefix() -> None:
    backend = _settings_caches({"REDIS_URL": "redis://127.0.0.1:6379/3", "CACHE_KEY_PREFIX": "run42"})
    assert backend == "django.core.cache.backends.redis.RedisCache run42"


@pytest.fixture(params=["redis", "database"])
def store(request: Any, transactional_db: Any) -> Iterator[dict[str, str]]:
    """The environment that points both servers at one store, under a prefix of this test's own."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the servers must see the test's committed rows")
    prefix = f"t-{uuid.uuid4().hex[:12]}"
    if request.param == "redis":
        if not REDIS_URL:
            pytest.skip("REDIS_URL is not set (CI's PostgreSQL pass sets it)")
        yield {"REDIS_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix, "store": "redis"}
        forget_keys(REDIS_URL, prefix)
    else:
        yield {"CACHE_KEY_PREFIX": prefix, "store": "database"}


def _servers(tmp_path: Path, env: dict[str, str], n: int, round_: int) -> list[Server]:
    env = {k: v for k, v in env.items() if k != "store"}
    common = {"DATABASE_URL": database_url(), "TRUSTED_PROXIES": "127.0.0.1", **env}
    servers = [Server(tmp_path / f"server{i}-{round_}.log", common).launch() for i in range(n)]
    try:
        return [server.wait_ready() for server in servers]  # started side by side
    except BaseException:
        for server in servers:
            server.stop()
        raise


def test_two_servers_count_one_limit_and_the_counts_survive_a_restart(
    store: dict[str, str], tmp_path: Path
) -> None:
    clinic = LiveClinic.create()
    start = clinic.start(11)
    servers = _servers(tmp_path, store, 2, 1)
    try:
        a = Client(servers[0].port)
        token = clinic.csrf_token(a, start)
        b = a.on(servers[1].port)  # the same visitor (CSRF cookie) on the other server
        visitor = {"X-Forwarded-For": "192.0.2.10"}  # the per-IP limit (10 an hour) stays out of the way
        split = [
            clinic.request_code(a if i % 2 == 0 else b, token, start, "+79165550001", **visitor).status
            for i in range(2 * LIMIT)
        ]
        # one server alone, another destination: the same answers
        alone = [
            clinic.request_code(a, token, start, "+79165550002", **{"X-Forwarded-For": "192.0.2.11"}).status
            for _ in range(2 * LIMIT)
        ]
    finally:
        for server in servers:
            server.stop()
    assert split == [302] * LIMIT + [429] * LIMIT
    assert alone == split

    servers = _servers(tmp_path, store, 2, 2)  # both restarted: new processes, same store
    try:
        a = Client(servers[0].port)
        token = clinic.csrf_token(a, start)
        b = a.on(servers[1].port)
        again = [clinic.request_code(c, token, start, "+79165550001", **visitor).status for c in (a, b)]
        fresh = clinic.request_code(b, token, start, "+79165550003", **visitor).status
    finally:
        for server in servers:
            server.stop()
    assert again == [429, 429]  # still over the limit after the restart
    assert fresh == 302  # the servers work; only that destination is held back

    # and the counters are where the settings say
    if store["store"] == "redis":
        keys = list(
            redis.Redis.from_url(REDIS_URL).scan_iter(match=f"{store['CACHE_KEY_PREFIX']}:*rl:book:*")
        )
        assert len(keys) >= 3  # destination, organisation, IP
    else:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT COUNT(*) FROM clinicflow_cache WHERE cache_key LIKE %s",
                [f"{store['CACHE_KEY_PREFIX']}:%rl:book:%"],
            )
            assert cur.fetchone()[0] >= 3
