"""The what-if planner's model (issue #18): revenue as a tree of factors, fitted on an organisation's
own history, each factor a figure the reports already show.

- unique calls per branch and channel: the fitted calls model of :mod:`.fit` — series level,
  calendar, growth trend, the first-visit price (the elasticity) and each paid channel's curve
  ``calls ∝ spend^β``;
- first visits = unique calls × the front desk's conversion into first visits that happened (the
  last six months' ratio), moved by an administrator's conversion in proportion to the answered
  unique calls they take;
- revenue = Σ over cohorts of first patients × their net revenue per first patient in the k-th
  month after the first visit (the value curve, from the history's cohorts; the first month's value
  follows the first-visit price) + the revenue of older patients (the last months' level);
- capped by capacity: booked minutes per doctor follow revenue; a doctor's booked minutes above
  ``LOAD_CEILING`` of their available minutes are lost, and with them a share of the first visits
  and revenue;
- retention levers (:mod:`.retention`): the recall campaigns' revenue (campaigns at the history's
  cadence × contacts × the revenue per contact by months after the campaign) moves in proportion to
  their reach and response; with the repeat rate, revenue moves by the share the history's last
  months gain when replayed with the returns decided in them that much likelier.

The prediction itself is :mod:`.forecast`."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.db.models import Max, Min

from clinicflow.acquisition.models import Call
from clinicflow.analytics.owner.factsql import tune
from clinicflow.analytics.pricing.fit import CallsModel, Elasticity, estimate
from clinicflow.analytics.pricing.history import History, build_history
from clinicflow.analytics.pricing.panel import month_range
from clinicflow.analytics.pricing.retention import (
    RecallHistory,
    RepeatHistory,
    recall_history,
    repeat_history,
)
from clinicflow.core.models import Organization

LOAD_CEILING = 0.95
HISTORY_MONTHS = 24
CONVERSION_MONTHS = 6
DRAWS = 400
TAIL_FROM = 9  # months after the first visit from which a first patient's revenue is taken as flat
SPEND_MONTHS = 6  # a channel's spend now: the mean of the last months (the month's jitter averaged out)
LEVEL_MONTHS = 6  # the older patients' revenue: the mean of the last months' remainder


class NotEnoughHistory(ValueError):
    """The history cannot carry a plan (too short, or the calls model could not be fitted)."""


@dataclass
class PlanModel:
    currency: str
    months: list[dt.date]  # the history's months
    elasticity: Elasticity
    calls: CallsModel
    history: History
    price: dict[uuid.UUID, float]  # branch → the last month's first-visit price
    spend: dict[tuple[uuid.UUID, uuid.UUID], float]  # (branch, channel) → recent monthly spend
    channel_codes: dict[str, uuid.UUID]  # paid channels with a fitted curve
    admin_names: dict[str, uuid.UUID]
    doctor_names: dict[str, uuid.UUID]
    conversion: float  # first visits per unique call
    conversion_se: float
    value: np.ndarray  # net revenue per first patient in the k-th month after the first visit
    first_extra: float  # first month's revenue per first patient beyond the first-visit price
    older_level: float
    older_sd: float
    recall: RecallHistory = field(default_factory=RecallHistory)
    repeat: RepeatHistory = field(default_factory=RepeatHistory)
    fit_seconds: float = 0.0
    chol: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    draws: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # of seed 0, made by the fit

    def draws_of(self, rng: np.random.Generator, seed: int | None) -> np.ndarray:
        """``DRAWS`` draws of the calls model's coefficients (parameters × draws) from the first
        numbers of ``rng``, a fresh generator of ``seed``: of seed 0 (every prediction's) the fit's,
        made once (the 158 × 158 by 158 × 400 product cost a recomputation 10–30 ms)."""
        z = rng.standard_normal((len(self.calls.coef), DRAWS))
        if seed == 0 and self.draws.shape == z.shape:
            return self.draws
        out: np.ndarray = self.calls.coef[:, None] + self.chol @ z
        return out

    @property
    def last_month(self) -> dt.date:
        return self.months[-1]

    def current(self) -> dict[str, Decimal]:
        """Every lever's value now (the form's defaults)."""
        out: dict[str, Decimal] = {}
        if self.price:
            out["first_visit_price"] = _money(float(np.mean(list(self.price.values()))))
        for code, cid in sorted(self.channel_codes.items()):
            total = sum(v for (_, c), v in self.spend.items() if c == cid)
            out[f"channels.{code}.monthly_spend"] = _money(total)
        for a in self.history.admins:
            out[f"administrators.{a.name}.conversion"] = Decimal(str(round(a.conversion, 3)))
        for name in sorted(self.doctor_names):
            out[f"doctors.{name}.hours_share"] = Decimal(1)
        if self.recall.campaigns:
            out["recall.contact_share"] = Decimal(str(round(self.recall.reach, 3)))
            out["recall.response"] = Decimal(str(round(self.recall.response, 3)))
        out["repeat_rate_factor"] = Decimal(1)
        return out


def _money(x: float) -> Decimal:
    return Decimal(str(round(float(x), 2))).quantize(Decimal("0.01"))


def _value_curve(h: History, prices: np.ndarray) -> tuple[np.ndarray, float]:
    """Revenue per first patient by months since the first visit, and the first month's revenue
    beyond the price of the first visit."""
    n = len(h.cohort_size)
    size = h.cohort_size
    value = np.zeros(max(n, 1) + 60)
    for k in range(n):
        cohorts = np.arange(0, n - k)
        total = size[cohorts].sum()
        value[k] = h.cohort_revenue[cohorts, cohorts + k].sum() / total if total else 0.0
    known = max(n - 1, 0)
    if n > TAIL_FROM + 1:
        # the late ages rest on the few oldest cohorts (a clinic's first months): from TAIL_FROM on,
        # the value is one level, the mean of the observed late ages weighted by the first patients
        # behind each — held flat, as the cohorts' own revenue is at those ages
        counts = np.array([size[: n - k].sum() for k in range(TAIL_FROM, n)])
        if counts.sum() > 0:
            value[TAIL_FROM:] = float((value[TAIL_FROM:n] * counts).sum() / counts.sum())
    elif n > 3:  # a short history: the mean of the last three ages, held
        value[known - 2 :] = value[known - 2 : known + 1].mean()
    have = size > 0
    extra = float((np.diag(h.cohort_revenue)[have] / size[have] - prices[have]).mean()) if have.any() else 0.0
    return value, extra


def build_plan(
    *, org: Organization, as_of: dt.date, history_months: int = HISTORY_MONTHS, facts: bool | None = None
) -> PlanModel:
    """Fit the planner on the whole months before ``as_of`` (at most ``history_months`` of them);
    ``facts``: the first patients and revenue from the owner's daily facts (None: when built). Read in
    one transaction, its statements tuned as the facts' are (``factsql.tune``: no JIT compilation,
    whose cost grows with a chain's estimated rows, not with the work; sorts and hashes in memory)."""
    with transaction.atomic():
        tune()
        return _fit(org=org, as_of=as_of, history_months=history_months, facts=facts)


def _fit(*, org: Organization, as_of: dt.date, history_months: int, facts: bool | None) -> PlanModel:
    started = time.perf_counter()
    last = as_of.replace(day=1) - dt.timedelta(days=1)
    first = month_range(dt.date(last.year - 10, 1, 1), last)[-history_months]
    span = Call.objects.for_org(org).aggregate(a=Min("started_at"), z=Max("started_at"))
    began, ended = span["a"], span["z"]
    if ended is not None and ended.date() < last:  # no calls lately: up to the last whole month of data
        last = ended.date().replace(day=1) - dt.timedelta(days=1)
        first = month_range(dt.date(last.year - 10, 1, 1), last)[-history_months]
    if began is not None and began.date() > first:
        first = began.date().replace(day=1)
    if first > last:
        raise NotEnoughHistory("no whole month of history before this date")
    h = build_history(org=org, date_from=first, date_to=last, facts=facts)
    panel = h.panel
    e = estimate(panel)
    if e.calls_model is None:
        raise NotEnoughHistory(e.warning or "the calls model could not be fitted")
    n = len(panel.months)
    chain_price = np.array(
        [
            np.mean(
                [float(panel.price[(b.pk, m)]) for b in panel.branches if (b.pk, m) in panel.price] or [0]
            )
            for m in panel.months
        ]
    )
    value, extra = _value_curve(h, chain_price)
    recent = panel.months[-SPEND_MONTHS:]
    spend = {
        (b.pk, cid): float(sum(panel.spend.get((b.pk, cid, m), Decimal(0)) for m in recent)) / len(recent)
        for b in panel.branches
        for cid in e.calls_model.paid_ids
    }
    codes = {c.pk: c.code for c in panel.channels}
    per_month: dict[dt.date, int] = {}
    for (_, _, mm), v in panel.calls.items():
        per_month[mm] = per_month.get(mm, 0) + v
    calls_m = np.array([per_month.get(m, 0) for m in panel.months])
    tail = slice(max(n - CONVERSION_MONTHS, 0), n)
    ratios = h.cohort_size[tail] / np.maximum(calls_m[tail], 1)
    conv = float(h.cohort_size[tail].sum() / max(calls_m[tail].sum(), 1))
    # the revenue the cohort model leaves out (older patients, prepayments) is its own stream, at its
    # recent level; the cohort model's in-sample misfit gives the months' own noise (its mean is no
    # level to add: it is the value curve's noise, and carried forward it biased the baseline)
    fitted = np.array([sum(h.cohort_size[c] * value[j - c] for c in range(j + 1)) for j in range(n)])
    fitted += h.cohort_size * (chain_price + extra) - h.cohort_size * value[0]
    resid = h.revenue - fitted
    model = PlanModel(
        currency=panel.currency,
        months=panel.months,
        elasticity=e,
        calls=e.calls_model,
        history=h,
        price={
            b.pk: float(panel.price[(b.pk, panel.months[-1])])
            for b in panel.branches
            if (b.pk, panel.months[-1]) in panel.price
        },
        spend=spend,
        channel_codes={codes[cid]: cid for cid in e.calls_model.paid_ids},
        admin_names={a.name: a.id for a in h.admins},
        doctor_names={name: pk for pk, (name, _, _) in h.capacity.doctors.items() if name},
        conversion=conv,
        conversion_se=float(np.std(ratios) / np.sqrt(max(len(ratios), 1)))
        if len(ratios) > 1
        else 0.05 * conv,
        value=value,
        first_extra=extra,
        older_level=float(h.older[-LEVEL_MONTHS:].mean()),
        older_sd=float(np.std(resid[-12:])) if n >= 6 else float(abs(resid).mean()),
    )
    tz = panel.branches[0].tz if panel.branches else dt.UTC
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    read_facts = panel.monthly is not None and panel.monthly.facts
    model.recall = recall_history(
        org=org, months=panel.months, tz=tz, currency=panel.currency, end=end, facts=read_facts
    )
    model.repeat = repeat_history(
        org=org,
        months=panel.months,
        tz=tz,
        currency=panel.currency,
        end=end,
        facts=False if facts is False else None,  # the return facts when built (``return_facts``)
    )
    cov = (e.calls_model.cov + e.calls_model.cov.T) / 2
    model.chol = np.linalg.cholesky(cov + np.eye(len(cov)) * 1e-12)
    model.draws = model.draws_of(np.random.default_rng(0), None)
    model.fit_seconds = time.perf_counter() - started
    return model
