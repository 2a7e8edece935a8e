"""The integration a webhook delivery comes from: found by the SHA-256 of its URL secret.

Cached briefly per process (the PostgreSQL ingest path is one statement per delivery). Disabling or
enabling an integration calls ``clear_cache`` at once and again on commit, so the very next delivery
in that process is refused; other worker processes follow within ``_CACHE_TTL`` seconds."""

from __future__ import annotations

import time

from clinicflow.acquisition.models import Integration, hash_secret

_CACHE_TTL = 5.0
_cache: dict[tuple[str, str], tuple[float, Integration | None]] = {}


def integration_for(provider: str, secret: str) -> Integration | None:
    """The active integration behind a URL secret (looked up by SHA-256; cached briefly per process)."""
    if len(secret) < 20 or len(secret) > 100:
        return None
    key = (provider, hash_secret(secret))
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < _CACHE_TTL:
        return hit[1]
    row = (
        Integration.objects.select_related("organization", "branch")
        .filter(secret_hash=key[1], provider=provider, is_active=True)
        .first()
    )
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[key] = (now, row)
    return row


def clear_cache() -> None:
    _cache.clear()
