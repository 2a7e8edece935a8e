"""How much of the dynamic number pool anonymous website visitors may hold.

The tracking beacon is public: without limits one client opening session after session (or many
clients together) could hold every dynamic number, and calls would lose their attribution. So one
client address may take at most ``TRACKING_LEASES_PER_IP`` new numbers per hold window (counted in the
shared cache), and new leases always leave ``TRACKING_POOL_RESERVE`` (a share, rounded down) of the
pool free. A visit refused a number shows the page's static/default number instead.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.cache import cache

from clinicflow.core.models import Organization

DEFAULT_LEASES_PER_IP = 10
DEFAULT_POOL_RESERVE = 0.2


def leases_per_ip() -> int:
    return int(getattr(settings, "TRACKING_LEASES_PER_IP", DEFAULT_LEASES_PER_IP))


def pool_reserve(pool_size: int) -> int:
    """How many numbers of a pool of ``pool_size`` new leases must leave free."""
    share = float(getattr(settings, "TRACKING_POOL_RESERVE", DEFAULT_POOL_RESERVE))
    return int(pool_size * min(max(share, 0.0), 1.0))


def _key(org: Organization, client_ip: str, now: dt.datetime, hold: dt.timedelta) -> str:
    window = int(now.timestamp() // max(hold.total_seconds(), 60))
    return f"cf-t:lease:{org.pk}:{client_ip[:64]}:{window}"


def ip_may_lease(*, org: Organization, client_ip: str, now: dt.datetime, hold: dt.timedelta) -> bool:
    """Whether this client address may take one more number in the current hold window."""
    if not client_ip:
        return True
    return int(cache.get(_key(org, client_ip, now, hold), 0)) < leases_per_ip()


def ip_leased(*, org: Organization, client_ip: str, now: dt.datetime, hold: dt.timedelta) -> None:
    """Count a number newly leased to this client address."""
    if not client_ip:
        return
    key = _key(org, client_ip, now, hold)
    if not cache.add(key, 1, int(hold.total_seconds() * 2) + 60):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, int(hold.total_seconds() * 2) + 60)
