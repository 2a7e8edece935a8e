"""Attribution as pure functions over plain values, so the simulator and the reports can use them
on in-memory lists as well as on database rows.

* ``classify_visit``: a web visit's UTM tags / click ids / referrer → (channel code, source, medium).
* ``lease_holder``: which lease held tracking number N at time t.
* ``credit``: spread one patient's touches over channels by an attribution model
  (last non-direct touch, first touch, linear).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

DIRECT = "direct"
MODELS = ("last_non_direct", "first_touch", "linear")

SEARCH_ENGINES = (
    "google.",
    "yandex.",
    "bing.",
    "baidu.",
    "duckduckgo.",
    "mail.ru",
    "yahoo.",
    "sogou.",
    "so.com",
)
SOCIAL_SITES = (
    "vk.com",
    "facebook.com",
    "instagram.com",
    "ok.ru",
    "t.me",
    "telegram.",
    "tiktok.com",
    "weibo.com",
    "xiaohongshu.com",
    "youtube.com",
)
AGGREGATORS = ("prodoctorov", "docdoc", "zoon", "2gis", "napopravku", "sberzdorovie", "dianping", "meituan")
PAID_MEDIA = ("cpc", "ppc", "paid", "paidsearch", "paid_search", "cpa", "cpm", "cpv", "display", "banner")
SOCIAL_MEDIA = ("social", "paid_social", "social_paid", "smm", "target", "targeted")
OFFLINE_MEDIA = ("offline", "print", "outdoor", "qr", "radio", "tv", "flyer")


@dataclass(frozen=True, slots=True)
class Visit:
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    referrer: str = ""
    gclid: str = ""
    yclid: str = ""
    site_host: str = ""


@dataclass(frozen=True, slots=True)
class Classified:
    channel: str
    source: str
    medium: str


def _host(link: str) -> str:
    try:
        return (urlsplit(link).hostname or "").lower()
    except ValueError:
        return ""


def classify_visit(v: Visit) -> Classified:
    """Channel code (same codes as patients.Source) plus the source/medium pair of a visit."""
    source = v.utm_source.strip().lower()
    medium = v.utm_medium.strip().lower()
    ref_host = _host(v.referrer)
    if v.site_host and ref_host and (ref_host == v.site_host or ref_host.endswith("." + v.site_host)):
        ref_host = ""  # internal navigation is not a referrer
    if v.gclid or v.yclid:
        return Classified("search_ads", source or ("google" if v.gclid else "yandex"), medium or "cpc")
    if source or medium:
        src = source or ref_host or "(not set)"
        med = medium or "(not set)"
        if any(a in src for a in AGGREGATORS):
            return Classified("aggregator", src, med)
        if med in OFFLINE_MEDIA:
            return Classified("offline", src, med)
        if med in SOCIAL_MEDIA or (med in PAID_MEDIA and any(s.split(".")[0] in src for s in SOCIAL_SITES)):
            return Classified("social_ads", src, med)
        if med in PAID_MEDIA:
            return Classified("search_ads", src, med)
        if med in ("organic", "seo"):
            return Classified("organic", src, med)
        if med in ("referral", "partner", "friend"):
            return Classified("referral", src, med)
        return Classified("referral", src, med)
    if ref_host:
        if any(a in ref_host for a in AGGREGATORS):
            return Classified("aggregator", ref_host, "referral")
        if any(s in ref_host for s in SEARCH_ENGINES):
            return Classified("organic", ref_host, "organic")
        if any(s in ref_host for s in SOCIAL_SITES):
            return Classified("referral", ref_host, "social")
        return Classified("referral", ref_host, "referral")
    return Classified(DIRECT, "(direct)", "(none)")


class LeaseLike(Protocol):
    @property
    def leased_at(self) -> dt.datetime: ...
    @property
    def held_until(self) -> dt.datetime: ...


L = TypeVar("L", bound=LeaseLike)


def lease_holder(leases: Iterable[L], at: dt.datetime) -> L | None:
    """The lease of one number that covered moment ``at`` (the latest one if several did)."""
    best: L | None = None
    for lease in leases:
        if lease.leased_at <= at <= lease.held_until and (best is None or lease.leased_at > best.leased_at):
            best = lease
    return best


@dataclass(frozen=True, slots=True)
class Touch:
    """One touch of a patient: a web session, a lead or a call, with its channel and campaign."""

    at: dt.datetime
    channel: Hashable | None
    campaign: Hashable | None = None
    is_direct: bool = False


def credit(touches: Sequence[Touch], model: str = "last_non_direct") -> dict[tuple[Any, Any], Fraction]:
    """Credit of one patient's touches (before their first visit) per (channel, campaign); sums to 1.

    ``last_non_direct``: the latest touch that is not direct, else the latest touch.
    ``first_touch``: the earliest touch. ``linear``: every touch an equal share.
    No touches → everything to (None, None), reported as "direct / unknown"."""
    if model not in MODELS:
        raise ValueError(f"unknown attribution model {model!r}")
    if not touches:
        return {(None, None): Fraction(1)}
    ordered = sorted(touches, key=lambda t: t.at)
    if model == "first_touch":
        t = ordered[0]
        return {(t.channel, t.campaign): Fraction(1)}
    if model == "last_non_direct":
        paid = [t for t in ordered if not t.is_direct and t.channel is not None]
        t = paid[-1] if paid else ordered[-1]
        return {(t.channel, t.campaign): Fraction(1)}
    out: dict[tuple[Any, Any], Fraction] = {}
    share = Fraction(1, len(ordered))
    for t in ordered:
        key = (t.channel, t.campaign)
        out[key] = out.get(key, Fraction(0)) + share
    return out


def unique_flags(calls: Sequence[tuple[str, dt.datetime]], window_days: int = 30) -> list[bool]:
    """For (caller, started_at) pairs: is each call the first from its number within ``window_days``
    (no call from that number in ``[started_at - window, started_at)``)? Input order is kept."""
    window = dt.timedelta(days=window_days)
    order = sorted(range(len(calls)), key=lambda i: (calls[i][0], calls[i][1]))
    flags = [True] * len(calls)
    caller_prev = ""
    last_earlier: dt.datetime | None = None  # latest call strictly before the current timestamp
    current: dt.datetime | None = None
    for i in order:
        caller, at = calls[i]
        if caller != caller_prev:
            caller_prev, last_earlier, current = caller, None, None
        if current is not None and at > current:
            last_earlier = current
        current = at
        flags[i] = last_earlier is None or at - last_earlier > window
    return flags
