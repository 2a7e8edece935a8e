"""The rate limiter's counters in the shared store: the database cache (always) and Redis (when
``REDIS_URL`` is set: CI's PostgreSQL pass sets it, its SQLite pass does not)."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from django.db import connection

from clinicflow.core import ratelimit

DB_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "clinicflow_cache"}
}
REDIS_URL = os.environ.get("REDIS_URL", "")


def _limit_three(key: str) -> list[bool]:
    return [ratelimit.hit(key, 3, 60) for _ in range(5)]


def test_rate_limit_counts_in_the_database_cache_table(db: Any, settings: Any) -> None:
    settings.CACHES = DB_CACHE
    assert _limit_three("t:db") == [True, True, True, False, False]
    assert ratelimit.hit("t:db-other", 3, 60) is True  # another key has its own counter
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM clinicflow_cache")
        assert cur.fetchone()[0] == 2


def test_rate_limit_window_expires(db: Any, settings: Any) -> None:
    settings.CACHES = DB_CACHE
    assert _limit_three("t:expiry") == [True, True, True, False, False]
    with connection.cursor() as cur:  # the window ends
        cur.execute("UPDATE clinicflow_cache SET expires = %s", ["2000-01-01 00:00:00"])
    assert ratelimit.hit("t:expiry", 3, 60) is True


@pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set (CI sets it on the PostgreSQL pass)")
def test_rate_limit_counts_in_redis(settings: Any) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    key = f"t:redis:{uuid.uuid4()}"
    assert _limit_three(key) == [True, True, True, False, False]
    assert ratelimit.hit(f"{key}:other", 3, 60) is True
