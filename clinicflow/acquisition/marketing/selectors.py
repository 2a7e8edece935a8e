"""Reads of marketing data: channels, campaigns, ad spend. Every function takes the organisation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum

from clinicflow.acquisition.models import AdSpend, Campaign, Channel
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Branch, Organization
from clinicflow.core.money import quantize
from clinicflow.core.names import localized
from clinicflow.core.selectors import parse_uuid


def channels(*, org: Organization) -> QuerySet[Channel]:
    qs: QuerySet[Channel] = Channel.objects.for_org(org).order_by("code")
    return qs


def channel_get(*, org: Organization, channel_id: object) -> Channel:
    pk = parse_uuid(channel_id)
    row = channels(org=org).filter(pk=pk).first() if pk else None
    if row is None:
        raise NotFound("channel not found")
    return row


def channel_codes(*, org: Organization) -> set[str]:
    """The standard channel codes the organisation has already added."""
    return set(channels(org=org).values_list("code", flat=True))


def campaigns(*, org: Organization) -> QuerySet[Campaign]:
    qs: QuerySet[Campaign] = (
        Campaign.objects.for_org(org).select_related("channel", "branch").order_by("name")
    )
    return qs


def campaign_get(*, org: Organization, campaign_id: object) -> Campaign:
    pk = parse_uuid(campaign_id)
    row = campaigns(org=org).filter(pk=pk).first() if pk else None
    if row is None:
        raise NotFound("campaign not found")
    return row


def campaign_find(*, org: Organization, channel: Channel, name: str) -> Campaign | None:
    """The channel's campaign with exactly this name."""
    row: Campaign | None = Campaign.objects.for_org(org).filter(channel=channel, name=name).first()
    return row


def campaign_by_utm(*, org: Organization, utm_campaign: str) -> Campaign | None:
    """The campaign a visit's ``utm_campaign`` tag names (with its channel), if any."""
    if not utm_campaign:
        return None
    row: Campaign | None = (
        Campaign.objects.for_org(org).filter(utm_campaign=utm_campaign).select_related("channel").first()
    )
    return row


@dataclass(frozen=True)
class SpendFilter:
    start: dt.date | None = None
    end: dt.date | None = None  # inclusive
    channel: Channel | None = None
    campaign: Campaign | None = None
    branch: Branch | None = None


def ad_spend_list(*, org: Organization, f: SpendFilter | None = None) -> QuerySet[AdSpend]:
    f = f or SpendFilter()
    qs: QuerySet[AdSpend] = AdSpend.objects.for_org(org)
    if f.start is not None:
        qs = qs.filter(date__gte=f.start)
    if f.end is not None:
        qs = qs.filter(date__lte=f.end)
    if f.channel is not None:
        qs = qs.filter(channel=f.channel)
    if f.campaign is not None:
        qs = qs.filter(campaign=f.campaign)
    if f.branch is not None:
        qs = qs.filter(branch=f.branch)
    return qs.select_related("channel", "campaign", "branch").order_by(
        "-date", "channel__code", "campaign__name"
    )


def ad_spend_totals(*, org: Organization, f: SpendFilter | None = None) -> list[dict[str, Any]]:
    """Totals per channel and currency of the filtered spend: channel name, currency, spend,
    impressions, clicks, days (rows)."""
    rows = (
        ad_spend_list(org=org, f=f)
        .order_by()
        .values("channel__name", "channel__name_i18n", "channel__code", "currency")
        .annotate(spend=Sum("spend"), impressions=Sum("impressions"), clicks=Sum("clicks"), rows=Count("id"))
        .order_by("channel__code", "currency")
    )
    # SQLite sums a DecimalField as REAL; back to exact money in the row's currency (no float residue).
    # the channel's name in the interface language (its translations leave the row)
    return [
        {
            **{k: v for k, v in r.items() if k != "channel__name_i18n"},
            "channel__name": localized(r["channel__name"], r["channel__name_i18n"]),
            "spend": quantize(r["spend"] or Decimal(0), r["currency"]),
        }
        for r in rows
    ]


SpendKey = tuple[str, Any, dt.date]  # ("c", campaign id, day) or ("h", channel id, day) for channel-level


def ad_spend_existing(
    *, org: Organization, first: dt.date, last: dt.date, campaign_ids: set[Any], channel_ids: set[Any]
) -> dict[SpendKey, AdSpend]:
    """The stored spend rows between ``first`` and ``last`` of these campaigns, and the channel-level
    rows (no campaign) of these channels, by their import key."""
    existing: dict[SpendKey, AdSpend] = {}
    rows = AdSpend.objects.for_org(org).filter(date__gte=first, date__lte=last)
    if campaign_ids:
        for row in rows.filter(campaign_id__in=campaign_ids):
            existing[("c", row.campaign_id, row.date)] = row
    if channel_ids:
        for row in rows.filter(campaign__isnull=True, channel_id__in=channel_ids):
            existing[("h", row.channel_id, row.date)] = row
    return existing
