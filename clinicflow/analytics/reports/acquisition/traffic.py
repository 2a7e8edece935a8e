"""Spend and traffic per channel / campaign: spend (per currency), impressions, clicks, web sessions,
leads and calls of the period."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from clinicflow.acquisition.models import AdSpend, Call, CallStatus, ChannelKind, Lead, WebSession
from clinicflow.analytics.owner.traffic_facts import traffic_counts
from clinicflow.analytics.reports.base import period_bounds
from clinicflow.core.models import Branch, Organization
from clinicflow.core.money import Money, MoneyTotals

Key = uuid.UUID | None


@dataclass
class Traffic:
    """Spend (per currency), impressions, clicks, sessions, leads and calls of one channel / campaign."""

    spend: MoneyTotals = field(default_factory=MoneyTotals)
    impressions: int = 0
    clicks: int = 0
    sessions: int = 0
    leads: int = 0
    calls: int = 0
    unique_calls: int = 0
    missed: int = 0


def traffic(
    *, org: Organization, date_from: dt.date, date_to: dt.date, branch: Branch | None, group: str
) -> dict[Key, Traffic]:
    key = "channel_id" if group == "channel" else "campaign_id"
    start, end = period_bounds(date_from, date_to, branch)
    out: dict[Key, Traffic] = defaultdict(Traffic)
    spend = AdSpend.objects.for_org(org).filter(date__gte=date_from, date__lte=date_to)
    spend = spend.exclude(channel__kind=ChannelKind.FREE)  # a free channel has no spend
    if branch is not None:
        spend = spend.filter(Q(branch=branch) | Q(branch__isnull=True, campaign__branch=branch))
    for r in spend.values(key, "currency").annotate(s=Sum("spend"), i=Sum("impressions"), c=Sum("clicks")):
        row = out[r[key]]
        row.spend.add(Money.of(r["s"] or Decimal(0), r["currency"]))  # exact: SQLite sums REAL
        row.impressions += r["i"] or 0
        row.clicks += r["c"] or 0

    counted = traffic_counts(org=org, date_from=date_from, date_to=date_to, branch=branch, key=key)
    if counted is not None:  # the daily facts (``owner.traffic_facts``, #17)
        for k, n in counted.items():
            for name, value in n.items():  # sessions, leads, calls, unique_calls, missed
                setattr(out[k], name, value)
        return dict(out)
    _raw_counts(out, org=org, start=start, end=end, branch=branch, key=key)
    return dict(out)


def _raw_counts(
    out: dict[Key, Traffic],
    *,
    org: Organization,
    start: dt.datetime,
    end: dt.datetime,
    branch: Branch | None,
    key: str,
) -> None:
    """The period's sessions, leads and calls from the raw tables (before the facts are built)."""

    def scoped(qs: QuerySet[Any, Any], at_field: str) -> QuerySet[Any, Any]:
        qs = qs.filter(**{f"{at_field}__gte": start, f"{at_field}__lt": end})
        return qs.filter(branch=branch) if branch is not None else qs

    for r in scoped(WebSession.objects.for_org(org), "started_at").values(key).annotate(n=Count("id")):
        out[r[key]].sessions += r["n"]
    for r in scoped(Lead.objects.for_org(org), "created_at").values(key).annotate(n=Count("id")):
        out[r[key]].leads += r["n"]
    calls = scoped(Call.objects.for_org(org), "started_at").values(key)
    for r in calls.annotate(
        n=Count("id"),
        u=Count("id", filter=Q(is_unique=True)),
        m=Count("id", filter=Q(status=CallStatus.MISSED)),
    ):
        row = out[r[key]]
        row.calls += r["n"]
        row.unique_calls += r["u"]
        row.missed += r["m"]
