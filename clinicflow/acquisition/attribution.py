"""Attribution as pure functions over plain values, so the simulator and the reports can use them
on in-memory lists as well as on database rows.

* ``classify_visit``: a web visit's UTM tags / click ids / referrer → (channel code, source, medium).
* ``lease_holder``: which lease held tracking number N at time t.
* ``credit``: spread one patient's touches over channels by an attribution model
  (last non-direct touch, first touch, linear).
* ``first_visits``, ``revenue`` and ``first_patient_credit``: the channel report's first patients —
  which visit a patient was attracted at, what they paid, and how both are credited to channels.

These are the definitions. The channel report computes the same in one SQL statement
(``clinicflow.analytics.reports.acquisition.first_patients``), tested against these functions by
property tests over random data (``clinicflow/analytics/tests/test_first_patients_property.py``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from clinicflow.core.money import Money, MoneyTotals

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
    No touches → everything to (None, None), reported as "direct / unknown".
    Touches at the same moment keep the order they are given in (the reports give them by source —
    call, lead, web session — then by id): first touch takes the first of them, the others the last."""
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


# --- first patients ------------------------------------------------------------------------------

# Appointment statuses (booking.AppointmentStatus) of a visit that took place.
HAPPENED = ("arrived", "done")
REFUND = "refund"  # booking.PaymentKind of money paid back (its amount is positive)


@dataclass(frozen=True, slots=True)
class Booking:
    """One appointment of a patient: when it starts, what became of it, where."""

    at: dt.datetime
    status: str
    branch: Hashable | None = None


@dataclass(frozen=True, slots=True)
class Paid:
    """One payment of a patient (``kind="refund"``: money paid back, the amount positive)."""

    at: dt.datetime
    money: Money
    kind: str = "payment"


@dataclass(frozen=True, slots=True)
class FirstVisit:
    """A first visit of the period: is it the booked first visit, the first visit that happened, or both."""

    booked: bool
    arrived: bool


def first_visits(
    appointments: Iterable[Booking], *, start: dt.datetime, end: dt.datetime, branch: Hashable | None = None
) -> dict[dt.datetime, FirstVisit]:
    """One patient's first visits in [start, end), by start time (at most two; one when they coincide).

    The *booked first visit* is the patient's earliest appointment whatever became of it (cancelled,
    no-show or kept: the booking was made). The *first visit that happened* — the one that makes them
    a first patient — is their earliest arrived or done appointment: a no-show or a cancellation
    before it neither hides the patient nor dates them. Earliest means over every branch; with a
    ``branch``, a first visit counts when an appointment of its kind at that moment is in the branch."""
    appts = list(appointments)
    out: dict[dt.datetime, FirstVisit] = {}
    for happened in (False, True):
        kind = [a for a in appts if not happened or a.status in HAPPENED]
        if not kind:
            continue
        at = min(a.at for a in kind)
        here = any(a.at == at and (branch is None or a.branch == branch) for a in kind)
        if start <= at < end and here:
            seen = out.get(at, FirstVisit(booked=False, arrived=False))
            out[at] = FirstVisit(booked=seen.booked or not happened, arrived=seen.arrived or happened)
    return out


def revenue(
    payments: Iterable[Paid], *, start: dt.datetime, end: dt.datetime
) -> tuple[MoneyTotals, MoneyTotals]:
    """A patient's revenue per currency: (paid in [start, end), paid before ``end``), refunds subtracted."""
    period, to_date = MoneyTotals(), MoneyTotals()
    for p in payments:
        if p.at >= end:
            continue
        signed = -p.money if p.kind == REFUND else p.money
        to_date.add(signed)
        if p.at >= start:
            period.add(signed)
    return period, to_date


def money_share(money: Money, share: Fraction) -> Money:
    """``share`` of an amount, unrounded (reports round their totals, not each share)."""
    return Money(money.amount * share.numerator / share.denominator, money.currency)


@dataclass
class Tally:
    """What the first patients of a period bring one channel (or campaign)."""

    booked: Fraction = Fraction(0)
    arrived: Fraction = Fraction(0)
    revenue_period: MoneyTotals = field(default_factory=MoneyTotals)
    revenue_to_date: MoneyTotals = field(default_factory=MoneyTotals)


@dataclass(frozen=True, slots=True)
class PatientHistory:
    """Everything of one patient the first-patient rules read."""

    appointments: Sequence[Booking]
    touches: Sequence[Touch]  # ties in time in the order ``credit`` should see them
    payments: Sequence[Paid] = ()


def first_patient_credit(
    patients: Iterable[PatientHistory],
    *,
    start: dt.datetime,
    end: dt.datetime,
    branch: Hashable | None = None,
    model: str = "last_non_direct",
    by: int = 0,
) -> dict[Any, Tally]:
    """Booked first visits, first patients and the first patients' revenue (in the period and to
    ``end``) per channel (``by=0``) or campaign (``by=1``). Each first visit is credited by ``model``
    over the patient's touches up to that visit (a first patient who came after a no-show is credited
    at the visit that happened); a first patient's revenue follows their first-visit credit."""
    out: dict[Any, Tally] = defaultdict(Tally)
    for patient in patients:
        visits = first_visits(patient.appointments, start=start, end=end, branch=branch)
        if not visits:
            continue
        rev_period, rev_total = revenue(patient.payments, start=start, end=end)
        for at, visit in visits.items():
            for key, share in credit([t for t in patient.touches if t.at <= at], model).items():
                tally = out[key[by]]
                tally.booked += share if visit.booked else 0
                if visit.arrived:
                    tally.arrived += share
                    for m in rev_period.values():
                        tally.revenue_period.add(money_share(m, share))
                    for m in rev_total.values():
                        tally.revenue_to_date.add(money_share(m, share))
    return dict(out)


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
