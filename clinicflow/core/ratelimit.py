"""Fixed-window rate limits with counters in the shared cache (``caches["default"]``: Redis when
``REDIS_URL`` is set, else the database cache), so every worker process and every restart sees the
same counts.

Call ``hit`` outside the caller's ``transaction.atomic()``: with the database cache a rollback would
otherwise undo the count."""

from __future__ import annotations

from django.core.cache import caches

PREFIX = "rl:"


def hit(key: str, limit: int, window: int) -> bool:
    """Count one event for ``key`` in the current ``window`` (seconds); True while at most ``limit``
    events were counted in it, False once over the limit. ``add`` creates the counter with its expiry
    only if it is absent (atomic in both stores), ``incr`` increments it: one atomic INCR in Redis;
    in the database cache a read then a write, so requests racing in the same instant may each be
    counted once less (the limit can be overrun by the number of concurrent requests, never more)."""
    cache = caches["default"]
    name = PREFIX + key
    if cache.add(name, 1, timeout=window):
        return limit >= 1
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr: this event starts a new window
        cache.add(name, 1, timeout=window)
        count = 1
    return count <= limit
