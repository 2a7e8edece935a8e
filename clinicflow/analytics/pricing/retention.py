"""What the planner's retention levers rest on, read from the organisation's own history:

- **recall campaigns** (``recall.contact_share``, ``recall.response``): the months with recall
  contacts (the campaigns) and their cadence, the contacts per campaign, the reach (contacts of the
  last campaign / patients lapsed then: whose last visit that happened is at least the lapsed list's
  ``lapsed_days`` old), the response (the share of contacts that booked) and the revenue per contact
  by months after the campaign (the payments of the patients who booked, within
  ``RECALL_WINDOW_DAYS`` of their booking);
- **repeat visits** (``repeat_rate_factor``): the revenue per month of return episodes — a patient's
  visits from one that comes at least ``EPISODE_GAP_DAYS`` after her previous visit on (a course's
  sessions and the doctor's extra services come sooner; a return sooner than that looks like the same
  episode: the gaps of the returns seen are taken as exponential from a week on, and the returns
  sooner than that are added back by that fit; patients differ in how soon they return, so the short
  returns are more than an exponential says, and the lever's effect comes out under-stated — about half
  the simulator's in the honesty test) — and how soon after the previous visit the returns
  come (the share of a month's returns that follow a visit made after a change).

Revenue here is the appointments' price (visits that happened), in the panel's currency."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Max

from clinicflow.acquisition.attribution import HAPPENED, REFUND
from clinicflow.booking.models import Appointment, Payment
from clinicflow.care.models import RecallContact, RecallKind, RecallList
from clinicflow.core.models import Organization

RECALL_WINDOW_DAYS = 120
RECALL_LAGS = 5  # months after the campaign's month that its revenue is followed
RECENT_MONTHS = 12
EPISODE_GAP_DAYS = 35
MIN_GAP_DAYS = 7  # a visit a week or more after the previous one can be a return
LOOKBACK_DAYS = 400  # the visits before the recent months that give their first visits a gap
DEFAULT_LAPSED_DAYS = 180


@dataclass
class RecallHistory:
    campaigns: list[int] = field(default_factory=list)  # history month indexes with contacts
    every: int = 0  # months between campaigns (0: no campaigns)
    contacts: float = 0.0  # per campaign, recent
    reach: float = 0.0
    response: float = 0.0
    lag_value: np.ndarray = field(default_factory=lambda: np.zeros(RECALL_LAGS))  # per contact

    def gain(self, reach: float, response: float, n: int, horizon: int) -> np.ndarray:
        """The revenue that campaigns at ``reach`` and ``response`` add, per month of the ``horizon``
        after a history of ``n`` months, against campaigns as now. The lapsed pool (contacts / reach)
        is taken as steady now — as many patients lapse between campaigns as the campaigns win back —
        and each campaign at the new levers draws it down (or lets it grow), so a better campaign
        gains most at first and less as the pool empties."""
        out = np.zeros(horizon)
        if not self.campaigns or self.every <= 0 or self.reach <= 0 or self.response <= 0:
            return out
        pool = self.contacts / self.reach
        inflow = self.contacts * self.response  # booked per campaign now
        per_booked = self.lag_value / self.response
        c = self.campaigns[-1] + self.every
        while c < n + horizon:
            if c >= n:
                booked = reach * response * pool
                for k in range(RECALL_LAGS):
                    if c - n + k < horizon:
                        out[c - n + k] += (booked - inflow) * per_booked[k]
                pool = max(pool - booked + inflow, 0.0)
            c += self.every
        return out


@dataclass
class RepeatHistory:
    revenue: float = 0.0  # return episodes' revenue per month, recent (the returns seen)
    gaps: np.ndarray = field(default_factory=lambda: np.zeros(0))  # days before each return visit

    def mean_gap(self) -> float:
        """Days beyond ``MIN_GAP_DAYS`` before a return, the gaps taken as exponential and fitted on
        the returns seen (those after ``EPISODE_GAP_DAYS`` or more: memoryless, the mean excess)."""
        return max(float(self.gaps.mean()) - EPISODE_GAP_DAYS, 1.0) if self.gaps.size else 0.0

    def total(self) -> float:
        """The return episodes' revenue per month, with the returns sooner than ``EPISODE_GAP_DAYS``
        (looking like the same episode) added back by the fitted gaps."""
        m = self.mean_gap()
        if not m:
            return self.revenue
        return self.revenue / math.exp(-(EPISODE_GAP_DAYS - MIN_GAP_DAYS) / m)

    def ramp(self, horizon: int) -> np.ndarray:
        """Per month after a change: the share of that month's returns that follow a visit made after
        the change (only those move with the repeat rate)."""
        m = self.mean_gap()
        if not m:
            return np.ones(horizon)
        mid = (np.arange(horizon) + 0.5) * 30.44
        out: np.ndarray = 1 - np.exp(-np.maximum(mid - MIN_GAP_DAYS, 0) / m)
        return out


def _month_index(months: list[dt.date], when: dt.datetime, tz: dt.tzinfo) -> int:
    local = when.astimezone(tz)
    first = months[0]
    return (local.year - first.year) * 12 + local.month - first.month


def recall_history(
    *, org: Organization, months: list[dt.date], tz: dt.tzinfo, currency: str, end: dt.datetime
) -> RecallHistory:
    out = RecallHistory()
    if not months:
        return out
    start = dt.datetime.combine(months[0], dt.time.min, tzinfo=dt.UTC)
    rows = list(
        RecallContact.objects.for_org(org)
        .filter(contacted_at__gte=start, contacted_at__lt=end)
        .order_by()
        .values_list("patient_id", "contacted_at", "booked_at")
    )
    if not rows:
        return out
    n = len(months)
    month_of = [_month_index(months, at, tz) for _, at, _ in rows]
    per_month = np.bincount(np.clip(month_of, 0, n - 1), minlength=n)
    out.campaigns = [int(i) for i in np.flatnonzero(per_month)]
    gaps = np.diff(out.campaigns)
    out.every = int(np.median(gaps)) if gaps.size else 12
    recent = [c for c in out.campaigns if c >= n - RECENT_MONTHS] or out.campaigns
    out.contacts = float(per_month[recent[-3:]].mean())
    # the campaigns whose window is over by the end of the history
    window = dt.timedelta(days=RECALL_WINDOW_DAYS)
    done = {c for c in recent if months[c] + window + dt.timedelta(days=31) <= end.date()} or set(recent)
    chosen = [r for r, c in zip(rows, month_of, strict=True) if c in done]
    booked = [(p, b, c) for (p, _, b), c in zip(rows, month_of, strict=True) if c in done and b is not None]
    out.response = len(booked) / len(chosen) if chosen else 0.0
    lag = np.zeros(RECALL_LAGS)
    if booked:
        by_patient: dict[object, list[tuple[dt.datetime, int]]] = {}
        for p, b, c in booked:
            by_patient.setdefault(p, []).append((b, c))
        pays = (
            Payment.objects.for_org(org)
            .filter(patient_id__in=list(by_patient), paid_at__gte=start, paid_at__lt=end, currency=currency)
            .exclude(kind=REFUND)
            .order_by()
            .values_list("patient_id", "paid_at", "amount")
        )
        for p, paid_at, amount in pays:
            for b, c in by_patient[p]:
                if b <= paid_at < b + window:
                    k = _month_index(months, paid_at, tz) - c
                    if 0 <= k < RECALL_LAGS:
                        lag[k] += float(amount)
    out.lag_value = lag / max(len(chosen), 1)
    # the reach of the last campaign: its contacts / the patients lapsed when it began
    lapsed_days = (
        RecallList.objects.for_org(org)
        .filter(kind=RecallKind.LAPSED)
        .values_list("lapsed_days", flat=True)
        .first()
    ) or DEFAULT_LAPSED_DAYS
    last = out.campaigns[-1]
    t0 = min(at for (_, at, _), c in zip(rows, month_of, strict=True) if c == last)
    lapsed = (
        Appointment.objects.for_org(org)
        .filter(status__in=HAPPENED, start_at__lt=t0)
        .values("patient_id")
        .annotate(last=Max("start_at"))
        .filter(last__lte=t0 - dt.timedelta(days=int(lapsed_days)))
        .order_by()
        .count()
    )
    out.reach = min(float(per_month[last]) / lapsed, 1.0) if lapsed else 0.0
    return out


def repeat_history(
    *, org: Organization, recent_from: dt.date, end: dt.datetime, currency: str
) -> RepeatHistory:
    """Return episodes over the months from ``recent_from`` to ``end``."""
    out = RepeatHistory()
    start = dt.datetime.combine(recent_from, dt.time.min, tzinfo=dt.UTC)
    rows = list(
        Appointment.objects.for_org(org)
        .filter(
            status__in=HAPPENED,
            start_at__gte=start - dt.timedelta(days=LOOKBACK_DAYS),
            start_at__lt=end,
            currency=currency,
        )
        .order_by()
        .values_list("patient_id", "start_at", "price")
    )
    if not rows:
        return out
    patients = {p: i for i, p in enumerate({r[0] for r in rows})}
    pid = np.fromiter((patients[r[0]] for r in rows), dtype=np.int64, count=len(rows))
    t = np.fromiter((r[1].timestamp() for r in rows), dtype=np.float64, count=len(rows))
    price = np.fromiter((float(r[2]) for r in rows), dtype=np.float64, count=len(rows))
    o = np.lexsort((t, pid))
    pid, t, price = pid[o], t[o], price[o]
    same = np.zeros(pid.size, dtype=bool)
    same[1:] = pid[1:] == pid[:-1]
    gap = np.where(same, np.diff(t, prepend=t[0]) / 86400.0, np.inf)
    starts = same & (gap >= EPISODE_GAP_DAYS)  # a return: a new episode after a break
    first = ~same  # the patient's first visit in the window: not known to be a return
    # each visit belongs to the latest episode start before it (of the same patient)
    marker = np.where(starts | first, np.arange(pid.size), 0)
    owner = np.maximum.accumulate(marker)
    is_return = starts[owner]
    recent = t >= start.timestamp()
    span_months = max((end - start).days / 30.44, 1.0)
    out.revenue = float(price[recent & is_return].sum()) / span_months
    out.gaps = gap[starts & recent]
    return out
