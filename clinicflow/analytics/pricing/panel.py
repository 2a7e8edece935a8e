"""The monthly history the fits rest on: per branch, channel and month the unique calls and the ad
spend; per branch and month the first visits and the first-visit price.

Months are calendar months of the branch's local days. A unique call is the acquisition app's
``Call.is_unique`` (the definition in DESIGN.md), read from the channels' traffic facts when built
(``owner.traffic_facts``); a first visit is a first patient's (DESIGN.md: their first ever visit that
happened, anywhere in the organisation) counted by the branch of that visit, as the owner's reports
count them (``whatif_months``: read from the daily facts when built); the price is
the first-visit service's price in force on the 15th of the month (branch price, else the chain's)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from clinicflow.acquisition.models import AdSpend, Call, Channel
from clinicflow.analytics.owner.traffic_facts import TrafficDayFact
from clinicflow.analytics.pricing.whatif_months import Months, monthly
from clinicflow.catalogue.models import Service, ServicePrice
from clinicflow.core.models import Branch, Organization

Key = tuple[uuid.UUID, dt.date]  # (branch id, first day of the month)


@dataclass
class Panel:
    """The history of one organisation (one currency: the branches' must agree)."""

    months: list[dt.date]
    branches: list[Branch]
    channels: list[Channel]
    currency: str
    calls: dict[tuple[uuid.UUID, uuid.UUID, dt.date], int] = field(
        default_factory=dict
    )  # branch, channel, month
    spend: dict[tuple[uuid.UUID, uuid.UUID, dt.date], Decimal] = field(default_factory=dict)
    first_visits: dict[Key, int] = field(default_factory=dict)
    price: dict[Key, Decimal] = field(default_factory=dict)
    monthly: Months | None = None  # the first patients and revenue per month (``whatif_months``)

    def paid(self, channel: Channel) -> bool:
        return any(v > 0 for (b, c, m), v in self.spend.items() if c == channel.pk)


def _month(d: dt.date | dt.datetime) -> dt.date:
    return dt.date(d.year, d.month, 1)


def month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    out, m = [], _month(first)
    while m <= last:
        out.append(m)
        m = dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    return out


def build_panel(
    *, org: Organization, date_from: dt.date, date_to: dt.date, facts: bool | None = None
) -> Panel:
    """The monthly history of [date_from, date_to] (whole months; the running month is left out);
    ``facts``: the first patients and revenue from the owner's facts (None: when they are built)."""
    branches = list(Branch.objects.for_org(org).order_by("name"))
    channels = list(Channel.objects.for_org(org).order_by("code"))
    currencies = {b.currency for b in branches} or {org.currency}
    months = month_range(date_from, date_to)
    panel = Panel(months=months, branches=branches, channels=channels, currency=sorted(currencies)[0])
    if not branches or not months:
        return panel
    panel.calls = _calls(org, branches, months, date_to, facts)
    panel.monthly = monthly(org=org, months=months, date_to=date_to, currency=panel.currency, facts=facts)
    panel.first_visits.update(panel.monthly.first_visits)
    spend = (
        AdSpend.objects.for_org(org)
        .filter(date__gte=months[0], date__lte=date_to, branch__isnull=False)
        .annotate(m=TruncMonth("date"))
        .values("m", "branch_id", "channel_id", "currency")
        .annotate(total=Sum("spend"))
        .order_by()
    )
    for m, branch_id, channel_id, currency, total in spend.values_list(
        "m", "branch_id", "channel_id", "currency", "total"
    ):
        if currency == panel.currency:  # never summed across currencies
            panel.spend[(branch_id, channel_id, _month(m))] = total
    _prices(org, panel)
    return panel


def _calls(
    org: Organization, branches: list[Branch], months: list[dt.date], date_to: dt.date, facts: bool | None
) -> dict[tuple[uuid.UUID, uuid.UUID, dt.date], int]:
    """The unique calls per branch, channel and month of the branches' local days ``months[0]`` ..
    ``date_to``: from the channels' traffic facts when built (``owner.traffic_facts``, a row per
    branch, day, channel and campaign), else grouped from the calls, one statement per time zone."""
    out: dict[tuple[uuid.UUID, uuid.UUID, dt.date], int] = {}
    ids = [b.pk for b in branches]
    if facts is not False and TrafficDayFact.objects.for_org(org).exists():
        rows = (
            TrafficDayFact.objects.for_org(org)
            .filter(branch__in=ids, day__gte=months[0], day__lte=date_to, channel_id__isnull=False)
            .filter(unique_calls__gt=0)
            .annotate(m=TruncMonth("day"))
            .values("branch_id", "channel_id", "m")
            .annotate(n=Sum("unique_calls"))
            .filter(n__gt=0)
            .order_by()
            .values_list("branch_id", "channel_id", "m", "n")
        )
        return {(b, c, _month(m)): int(n) for b, c, m, n in rows if c is not None}
    zones: dict[str, list[Branch]] = {}
    for b in branches:
        zones.setdefault(b.timezone, []).append(b)
    for group in zones.values():  # the months on the branches' clock: one statement per time zone
        tz = group[0].tz
        start = dt.datetime.combine(months[0], dt.time.min, tzinfo=tz)
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        calls = (
            Call.objects.for_org(org)
            .filter(
                branch__in=[b.pk for b in group],
                is_unique=True,
                started_at__gte=start,
                started_at__lt=end,
                channel__isnull=False,
            )
            .annotate(m=TruncMonth("started_at", tzinfo=tz))
            .values("branch_id", "m", "channel_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in calls:
            out[(row["branch_id"], row["channel_id"], _month(row["m"]))] = row["n"]
    return out


def _prices(org: Organization, panel: Panel) -> None:
    service = Service.objects.for_org(org).filter(is_first_visit=True).order_by("code").first()
    if service is None:
        return
    rows = list(
        ServicePrice.objects.for_org(org)
        .filter(service=service)
        .order_by("valid_from")
        .values_list("branch_id", "valid_from", "price", "currency")
    )
    for b in panel.branches:
        for m in panel.months:
            mid = m.replace(day=15)
            own = [r for r in rows if r[0] == b.pk and r[1] <= mid and r[3] == panel.currency]
            chain = [r for r in rows if r[0] is None and r[1] <= mid and r[3] == panel.currency]
            chosen = own[-1] if own else (chain[-1] if chain else None)
            if chosen is not None:
                panel.price[(b.pk, m)] = chosen[2]
