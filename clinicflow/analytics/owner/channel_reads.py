"""The owner's channel figures read from the per-channel daily facts (``owner.channel_facts``:
``ChanFirstFact``) over the local days ``d0``..``d1`` of a branch (or every branch):
the first patients, what was spent on advertising, the first patients' revenue to the period's end and
their predicted lifetime value — the channel report's totals (its default attribution model) on the
branch's local days. Money in one currency, never summed across currencies."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Max, Q, Sum

from clinicflow.acquisition.models import AdSpend, ChannelKind
from clinicflow.analytics.owner.chan_models import (
    BEFORE_CUTOFF,
    BOTH,
    BRANCH_ONLY,
    COUNTS,
    DEFAULT_MODEL,
    PAID,
    PREDICTED,
    ChanFirstFact,
)
from clinicflow.core.models import Branch, Organization

CENT = Decimal("0.01")


def _firsts(org: Organization, d0: dt.date, d1: dt.date, branch: Branch | None) -> Any:
    """The channel report's first patients (default model) as each branch counts them on its local days
    (``chan_models``), every channel."""
    qs = ChanFirstFact.objects.for_org(org).filter(
        day__gte=d0, day__lte=d1, model=DEFAULT_MODEL, part__in=(BOTH, BRANCH_ONLY)
    )
    return qs.filter(branch=branch) if branch is not None else qs


@dataclass(frozen=True)
class ChannelTotals:
    """The channel report's totals in ``currency``: ``arrived`` first patients (credited),
    ``spend``, ``revenue_to_date`` of the first patients (paid up to the period's end), their predicted
    ``lifetime`` value (None without stored predictions) and the predictions' day ``until``."""

    currency: str
    arrived: int
    spend: Decimal
    revenue_to_date: Decimal
    lifetime: Decimal | None
    until: dt.date | None

    @property
    def cost_per_first_patient(self) -> Decimal | None:
        return (self.spend / Decimal(self.arrived)).quantize(CENT) if self.arrived else None

    def romi_to_date(self, margin: Decimal) -> float | None:
        return float((self.revenue_to_date * margin - self.spend) / self.spend) if self.spend else None

    def romi_lifetime(self, margin: Decimal) -> float | None:
        if self.lifetime is None or not self.spend:
            return None
        return float((self.lifetime * margin - self.spend) / self.spend)


def spend(*, org: Organization, d0: dt.date, d1: dt.date, branch: Branch | None, currency: str) -> Decimal:
    """Ad spend of the days in ``currency`` (``traffic.traffic``'s rows: a free channel has none)."""
    qs = AdSpend.objects.for_org(org).filter(date__gte=d0, date__lte=d1, currency=currency)
    qs = qs.exclude(channel__kind=ChannelKind.FREE)
    if branch is not None:
        qs = qs.filter(Q(branch=branch) | Q(branch__isnull=True, campaign__branch=branch))
    total = Decimal(0)
    for (amount,) in qs.order_by().values("currency").annotate(s=Sum("spend")).values_list("s"):
        total += Decimal(amount or 0)  # exact: SQLite sums REAL
    return total


def channel_totals(
    *, org: Organization, d0: dt.date, d1: dt.date, branch: Branch | None, currency: str
) -> ChannelTotals:
    firsts = _firsts(org, d0, d1, branch)
    arrived = firsts.filter(kind=COUNTS).aggregate(n=Sum("arrived"))["n"]
    revenue = firsts.filter(kind=PAID, paid_day__lte=d1, currency=currency).aggregate(c=Sum("cents"))["c"]
    values = firsts.filter(kind__in=(BEFORE_CUTOFF, PREDICTED)).aggregate(
        c=Sum("cents", filter=Q(currency=currency)), u=Max("until")
    )
    until = values["u"]
    return ChannelTotals(
        currency=currency,
        arrived=int(arrived or 0),
        spend=spend(org=org, d0=d0, d1=d1, branch=branch, currency=currency),
        revenue_to_date=Decimal(int(revenue or 0)) / 100,
        lifetime=Decimal(int(values["c"] or 0)) / 100 if until is not None else None,
        until=until,
    )


def profile_cells(
    *, org: Organization, d0: dt.date, d1: dt.date, branch: Branch | None
) -> list[tuple[uuid.UUID | None, str, str, int]]:
    """The first patients (arrived) per (channel, sex, age band) of the local days (default model)."""
    qs = _firsts(org, d0, d1, branch).filter(kind=COUNTS, arrived__gt=0)
    rows = qs.order_by().values("channel_id", "sex", "band").annotate(n=Sum("arrived"))
    return [(r["channel_id"], r["sex"], r["band"], int(r["n"] or 0)) for r in rows]
