"""Short-lived per-process caches of the hot look-ups of an event: tracking numbers, channels,
campaigns, administrators and the callback delay (configuration that changes rarely; the services
that change it call ``clear_caches``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from clinicflow.accounts.models import User
from clinicflow.acquisition.attribution import DIRECT
from clinicflow.acquisition.defaults import channel_for_code, tracking_settings
from clinicflow.acquisition.models import Campaign, TrackingNumber
from clinicflow.core.models import Organization

T = TypeVar("T")
_TTL = 10.0
_MAX = 50_000
_lookup_cache: dict[tuple[str, str, str], tuple[float, Any]] = {}


def cached(kind: str, org: Organization, key: str, load: Callable[[], T]) -> T:
    ck = (kind, str(org.pk), key)
    now = time.monotonic()
    hit = _lookup_cache.get(ck)
    if hit is not None and now - hit[0] < _TTL:
        value: T = hit[1]
        return value
    value = load()
    if len(_lookup_cache) > _MAX:
        _lookup_cache.clear()
    _lookup_cache[ck] = (now, value)
    return value


def clear_caches() -> None:
    _lookup_cache.clear()


def number_for(org: Organization, e164: str) -> TrackingNumber | None:
    if not e164:
        return None
    return cached(
        "number",
        org,
        e164,
        lambda: TrackingNumber.objects.for_org(org).select_related("campaign").filter(e164=e164).first(),
    )


def channel_id_for(org: Organization, code: str) -> Any:
    return cached("channel", org, code, lambda: channel_for_code(org=org, code=code).pk)


def direct_channel_id(org: Organization) -> Any:
    return channel_id_for(org, DIRECT)


def campaign_ids(org: Organization, utm_campaign: str) -> tuple[Any, Any] | None:
    """(id, channel id) of the organisation's campaign with this ``utm_campaign``."""
    return cached(
        "campaign",
        org,
        utm_campaign,
        lambda: (
            Campaign.objects.for_org(org)
            .filter(utm_campaign=utm_campaign)
            .values_list("pk", "channel_id")
            .first()
        ),
    )


def administrator_id(org: Organization, email: str) -> Any:
    if not email:
        return None
    return cached(
        "admin",
        org,
        email.lower(),
        lambda: (
            User.objects.filter(organization=org, email__iexact=email).values_list("pk", flat=True).first()
        ),
    )


def callback_minutes(org: Organization) -> int:
    return int(cached("settings", org, "callback", lambda: tracking_settings(org=org).callback_minutes))
