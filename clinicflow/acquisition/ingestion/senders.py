"""The integration a webhook delivery comes from: found by the SHA-256 of its URL secret.

Each process keeps the rows it looked up for up to ``_CACHE_TTL`` seconds (the PostgreSQL ingest path
is one statement per delivery), stamped with the *integration generation*: a random value in the
shared cache (``caches["default"]``: Redis, or the database cache — the store every worker process
and the rate limits share). A cached row is used only while the shared generation still equals its
stamp. Enabling or disabling an integration writes a new generation once the change is committed
(``bump_generation``), so every process — not only the one that made the change — looks the
integration up again on its very next delivery: a disabled integration is refused at once
everywhere. When the shared cache cannot be read, nothing cached is trusted (the database is read)."""

from __future__ import annotations

import logging
import secrets
import time

from django.core.cache import caches

from clinicflow.acquisition.models import Integration, hash_secret

logger = logging.getLogger(__name__)

_CACHE_TTL = 5.0
GENERATION_KEY = "acquisition:integrations:generation"
_cache: dict[tuple[str, str], tuple[float, str, Integration | None]] = {}


def _generation() -> str | None:
    """The shared generation (created when missing, e.g. after a Redis restart); None when the shared
    cache cannot be read."""
    try:
        cache = caches["default"]
        value = cache.get(GENERATION_KEY)
        if value is None:
            cache.add(GENERATION_KEY, secrets.token_hex(8), timeout=None)
            value = cache.get(GENERATION_KEY)
    except Exception:
        logger.warning("integration generation unreadable; reading integrations from the database")
        return None
    return None if value is None else str(value)


def bump_generation() -> None:
    """A new shared generation: every process drops the integrations it cached. Call after commit."""
    _cache.clear()
    try:
        caches["default"].set(GENERATION_KEY, secrets.token_hex(8), timeout=None)
    except Exception:
        logger.exception("integration generation not written; other processes follow within the TTL")


def integration_for(provider: str, secret: str) -> Integration | None:
    """The active integration behind a URL secret (looked up by SHA-256; cached briefly per process
    while the shared generation is unchanged)."""
    if len(secret) < 20 or len(secret) > 100:
        return None
    key = (provider, hash_secret(secret))
    now = time.monotonic()
    generation = _generation()  # read before the row: a change committed meanwhile bumps past it
    hit = _cache.get(key)
    if hit is not None and generation is not None and hit[1] == generation and now - hit[0] < _CACHE_TTL:
        return hit[2]
    row = (
        Integration.objects.select_related("organization", "branch")
        .filter(secret_hash=key[1], provider=provider, is_active=True)
        .first()
    )
    if generation is not None:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[key] = (now, generation, row)
    return row


def clear_cache() -> None:
    """Drop this process's cached integrations (tests; ``bump_generation`` reaches every process)."""
    _cache.clear()
