"""What the planner's retention levers rest on, read from the organisation's own history:

- **recall campaigns** (``recall.contact_share``, ``recall.response``): the months with recall
  contacts (the campaigns) and their cadence, the contacts per campaign, the reach (contacts of the
  last campaign / patients lapsed then: whose last visit that happened is at least the lapsed list's
  ``lapsed_days`` old), the response (the share of contacts that booked) and the revenue per contact
  by months after the campaign (the payments of the patients who booked, within
  ``RECALL_WINDOW_DAYS`` of their booking);
- **repeat visits** (``repeat_rate_factor``): the history's last months replayed as if the repeat rate
  had changed at their start. A return for a new episode is a visit some time after the patient's
  previous one; from five weeks on it is one, sooner it may be a course's next session or an extra
  service, so the gaps sooner than that count with the share of them that are returns (the returns
  seen from five weeks on extended back by their law, ``return_weights``). Every return decided after
  the change is ``factor`` times as likely, and a visit is reached through all of its patient's
  returns since then, so its expected count is the product over them; the revenue gained per month,
  as a share of the month's revenue, is what the planner adds to its prediction. Counting only the
  returns after five weeks, and each patient's first return after the change alone, under-stated the
  lever by half (a patient who returns comes back again: the simulator's loyal regulars return within
  weeks, again and again). The visits' links and gaps are read from the return facts when built, else
  grouped by the database (``return_facts``); the lapsed patients are counted from the owner's facts
  when built
  (``whatif_months.lapsed_patients``: with the return facts no visit is read).

Revenue here is the appointments' price (visits that happened), in the panel's currency."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from clinicflow.analytics.pricing.grouped import GAP_EDGES, TAIL_DAYS, recall_contacts, recall_revenue
from clinicflow.analytics.pricing.return_facts import gap_bins, link_rows
from clinicflow.analytics.pricing.whatif_months import lapsed_patients
from clinicflow.care.models import RecallKind, RecallList
from clinicflow.core.models import Organization

RECALL_WINDOW_DAYS = 120
RECALL_LAGS = 5  # months after the campaign's month that its revenue is followed
RECENT_MONTHS = 12
RAMP_MONTHS = 6  # the history's last months on which a change of the repeat rate is replayed
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
    """The return visits of the history's last ``months`` (from ``since``): ``links[r]`` counts, per
    bin of ``GAP_EDGES`` (1..5), the gaps of the patient's visits since ``since`` up to a group
    ``r`` of visits (each gap counted when the visit before it was on or after ``since``: a return
    that the repeat rate from ``since`` on would have decided), ``month[r]`` its month after
    ``since``, ``value[r]`` its visits' price; ``totals`` the price of every visit per month; and
    ``weights`` per bin the share of its gaps that are returns for a new episode."""

    links: np.ndarray = field(default_factory=lambda: np.zeros((0, len(GAP_EDGES)), dtype=np.int64))
    month: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    totals: np.ndarray = field(default_factory=lambda: np.zeros(0))
    weights: np.ndarray = field(default_factory=lambda: np.zeros(len(GAP_EDGES)))

    def ratio(self, factor: float, horizon: int) -> np.ndarray:
        """Per month after a change of the repeat rate to ``factor`` × now: the revenue gained, as a
        share of the month's revenue. Each return decided after the change is ``factor`` times as
        likely (a gap of an uncertain bin is a return with its weight), and a visit is reached
        through every return of its patient since the change: its expected count is the product of
        ``1 + weight × (factor − 1)`` over them — a patient who comes back more often comes back
        again more often (the months after the history hold the last month's share)."""
        out = np.zeros(horizon)
        if not self.totals.size or factor == 1.0:
            return out
        step = np.log1p(np.clip(self.weights * (factor - 1), -1 + 1e-12, None))
        gain = self.value * np.expm1(self.links @ step)
        per = np.bincount(self.month, weights=gain, minlength=self.totals.size)
        share = np.where(self.totals > 0, per / np.maximum(self.totals, 1e-9), 0.0)
        out[: min(horizon, share.size)] = share[:horizon]
        if horizon > share.size:
            out[share.size :] = share[-1]
        return out


def return_weights(bins: list[int]) -> np.ndarray:
    """Per bin of ``GAP_EDGES`` (1..5) the share of its gaps that are returns. From the last edge on
    every gap is one; sooner, a return looks like the same episode (a course's next session, an
    extra service). Patients differ in how soon they come back (a mixture of exponential gaps), so
    the returns seen from the last edge to ``TAIL_DAYS`` fall about evenly over the logarithm of the
    gap; the sooner ones are taken to follow that law (an exponential fitted on the returns seen put
    them at a fifth of that and under-stated the lever by half)."""
    out = np.ones(len(GAP_EDGES))
    per_log = bins[len(GAP_EDGES) + 1] / math.log(TAIL_DAYS / GAP_EDGES[-1])
    for i in range(len(GAP_EDGES) - 1):
        seen = bins[i + 1]
        expected = per_log * math.log(GAP_EDGES[i + 1] / GAP_EDGES[i])
        out[i] = min(expected / seen, 1.0) if seen else 0.0
    return out


def recall_history(
    *,
    org: Organization,
    months: list[dt.date],
    tz: dt.tzinfo,
    currency: str,
    end: dt.datetime,
    facts: bool = False,
) -> RecallHistory:
    """``facts``: the lapsed patients counted with the owner's daily facts (``whatif_months``)."""
    out = RecallHistory()
    if not months:
        return out
    start = dt.datetime.combine(months[0], dt.time.min, tzinfo=dt.UTC)
    # grouped by the database: the contacts per month, never one row per patient
    groups = recall_contacts(org=org, start=start, end=end, tz=tz)
    if not groups:
        return out
    n = len(months)
    first = months[0]
    index = {m: (m.year - first.year) * 12 + m.month - first.month for m, _, _, _ in groups}
    per_month = np.zeros(n, dtype=np.int64)
    for m, k, _, _ in groups:
        per_month[min(max(index[m], 0), n - 1)] += k
    out.campaigns = [int(i) for i in np.flatnonzero(per_month)]
    gaps = np.diff(out.campaigns)
    out.every = int(np.median(gaps)) if gaps.size else 12
    recent = [c for c in out.campaigns if c >= n - RECENT_MONTHS] or out.campaigns
    out.contacts = float(per_month[recent[-3:]].mean())
    # the campaigns whose window is over by the end of the history
    window = dt.timedelta(days=RECALL_WINDOW_DAYS)
    done = {c for c in recent if months[c] + window + dt.timedelta(days=31) <= end.date()} or set(recent)
    chosen = sum(k for m, k, _, _ in groups if index[m] in done)
    booked = sum(b for m, _, b, _ in groups if index[m] in done)
    out.response = booked / chosen if chosen else 0.0
    lag = np.zeros(RECALL_LAGS)
    if booked:
        revenue = recall_revenue(org=org, start=start, end=end, tz=tz, currency=currency, window=window)
        for cm, pm, total in revenue:
            c = (cm.year - first.year) * 12 + cm.month - first.month
            k = (pm.year - first.year) * 12 + pm.month - first.month - c
            if c in done and 0 <= k < RECALL_LAGS:
                lag[k] += float(total)
    out.lag_value = lag / max(chosen, 1)
    # the reach of the last campaign: its contacts / the patients lapsed when it began
    lapsed_days = (
        RecallList.objects.for_org(org)
        .filter(kind=RecallKind.LAPSED)
        .values_list("lapsed_days", flat=True)
        .first()
    ) or DEFAULT_LAPSED_DAYS
    last = out.campaigns[-1]
    t0 = min(at for m, _, _, at in groups if index[m] == last)
    day = t0.astimezone(tz).date()  # the patients lapsed at the start of its first local day
    lapsed = lapsed_patients(org=org, day=day, days=int(lapsed_days), currency=currency, facts=facts)
    out.reach = min(float(per_month[last]) / lapsed, 1.0) if lapsed else 0.0
    return out


def repeat_history(
    *,
    org: Organization,
    months: list[dt.date],
    tz: dt.tzinfo,
    currency: str,
    end: dt.datetime,
    facts: bool | None = None,
) -> RepeatHistory:
    """The return visits of the history's last ``RAMP_MONTHS`` (at most half of it), grouped by the
    database or read from the return facts (``return_facts``; ``facts`` None: when built); the gaps'
    weights from its last ``RECENT_MONTHS``. Months are the visits' local months (``tz`` unused: each
    branch's own clock)."""
    n = len(months)
    ramp = min(RAMP_MONTHS, n // 2)
    if not ramp:
        return RepeatHistory()
    last = end.date() - dt.timedelta(days=1)
    since = months[n - ramp]
    rows = link_rows(org=org, since=since, d1=last, currency=currency, facts=facts)
    bins = gap_bins(org=org, d0=months[max(n - RECENT_MONTHS, 0)], d1=last, currency=currency, facts=facts)
    index = {m: i for i, m in enumerate(months[n - ramp :])}
    rows = [r for r in rows if r[0] in index]
    totals = np.zeros(ramp)
    for m, _, price in rows:
        totals[index[m]] += float(price)
    return RepeatHistory(
        links=np.array([c for _, c, _ in rows], dtype=np.int64).reshape(len(rows), len(GAP_EDGES)),
        month=np.array([index[m] for m, _, _ in rows], dtype=np.int64),
        value=np.array([float(p) for _, _, p in rows]),
        totals=totals,
        weights=return_weights(bins),
    )
