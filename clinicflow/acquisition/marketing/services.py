"""Writes of marketing data: channels, campaigns and the ad spend import. Keyword-only, atomic,
organisation first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from clinicflow.acquisition.ingestion import clear_caches
from clinicflow.acquisition.marketing.selectors import (
    SpendKey,
    ad_spend_existing,
    campaign_find,
    channel_codes,
)
from clinicflow.acquisition.models import AdSpend, Campaign, Channel, ChannelCode, ChannelKind
from clinicflow.core.audit import audit_record, audited_save
from clinicflow.core.errors import Conflict, NotFound, ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.money import Money
from clinicflow.core.names import clean_names

if TYPE_CHECKING:
    from clinicflow.accounts.models import User

CAMPAIGN_FIELDS = (
    "channel_id",
    "name",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "branch_id",
    "starts_on",
    "ends_on",
    "is_active",
)
MAX_SPEND = Decimal("999999999999.99")


# --- channels -----------------------------------------------------------------------------------------


def _check_kind(kind: str) -> None:
    if kind not in ChannelKind.values:
        raise ValidationFailed.field("kind", f"must be one of {', '.join(ChannelKind.values)}")


@transaction.atomic
def channel_create(
    *,
    org: Organization,
    actor: User | None,
    code: str,
    name: str,
    kind: str,
    name_i18n: Mapping[str, str] | None = None,
) -> Channel:
    """Add one of the standard channel codes to the organisation under its own name (and its name in
    other languages, ``name_i18n``)."""
    if code not in ChannelCode.values:
        raise ValidationFailed.field("code", f"must be one of {', '.join(ChannelCode.values)}")
    _check_kind(kind)
    if not name.strip():
        raise ValidationFailed.field("name", "is required")
    if code in channel_codes(org=org):
        raise Conflict(f"channel {code!r} already exists", fields={"code": ["already exists"]})
    names = clean_names(name_i18n, max_length=100)
    channel = Channel.objects.create(
        organization=org, code=code, name=name.strip()[:100], name_i18n=names, kind=kind
    )
    audit_record(org=org, actor=actor, action=AuditAction.CREATE, object_type="channel", object_id=channel.pk)
    return channel


@transaction.atomic
def channel_update(
    *,
    org: Organization,
    actor: User | None,
    channel: Channel,
    name: str,
    kind: str,
    name_i18n: Mapping[str, str] | None = None,
) -> Channel:
    """Rename the channel or change its kind; ``name_i18n`` (when given) replaces its translations."""
    if not name.strip():
        raise ValidationFailed.field("name", "is required")
    _check_kind(kind)
    names = channel.name_i18n if name_i18n is None else clean_names(name_i18n, max_length=100)
    if (
        kind == ChannelKind.FREE
        and AdSpend.objects.for_org(org).filter(channel=channel, spend__gt=0).exists()
    ):
        raise ValidationFailed.field(
            "kind", "cannot be free: the channel has spend, and a free channel has none"
        )
    channel.name, channel.kind, channel.name_i18n = name.strip()[:100], kind, names
    audited_save(channel, org=org, actor=actor, fields=["name", "name_i18n", "kind"], object_type="channel")
    return channel


# --- campaigns ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignData:
    """What a campaign form gives: everything but the organisation."""

    channel: Channel
    name: str
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    branch: Branch | None = None
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    is_active: bool = True


def _campaign_checked(org: Organization, data: CampaignData, campaign: Campaign | None = None) -> str:
    """Check a campaign's fields; returns the name to store. ``campaign``: the one being edited."""
    if data.channel.organization_id != org.id:
        raise ValidationFailed.field("channel", "unknown channel")
    if data.branch is not None and data.branch.organization_id != org.id:
        raise ValidationFailed.field("branch", "unknown branch")
    name = data.name.strip()
    if not name:
        raise ValidationFailed.field("name", "is required")
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        raise ValidationFailed.field("ends_on", "is before the start")
    same = campaign_find(org=org, channel=data.channel, name=name)
    if same is not None and (campaign is None or same.pk != campaign.pk):
        raise Conflict(f"campaign {name!r} already exists", fields={"name": ["already exists"]})
    return name[:200]


def _campaign_set(campaign: Campaign, data: CampaignData, name: str) -> None:
    campaign.channel = data.channel
    campaign.name = name
    campaign.utm_source = data.utm_source.strip()[:100]
    campaign.utm_medium = data.utm_medium.strip()[:100]
    campaign.utm_campaign = data.utm_campaign.strip()[:200]
    campaign.branch = data.branch
    campaign.starts_on = data.starts_on
    campaign.ends_on = data.ends_on
    campaign.is_active = data.is_active


@transaction.atomic
def campaign_create(
    *,
    org: Organization,
    actor: User | None,
    channel: Channel,
    name: str,
    utm_source: str = "",
    utm_medium: str = "",
    utm_campaign: str = "",
    branch: Branch | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> Campaign:
    data = CampaignData(channel, name, utm_source, utm_medium, utm_campaign, branch, starts_on, ends_on)
    campaign = Campaign(organization=org)
    _campaign_set(campaign, data, _campaign_checked(org, data))
    campaign.save(force_insert=True)
    audit_record(
        org=org, actor=actor, action=AuditAction.CREATE, object_type="campaign", object_id=campaign.pk
    )
    return campaign


@transaction.atomic
def campaign_update(
    *, org: Organization, actor: User | None, campaign: Campaign, data: CampaignData
) -> Campaign:
    if campaign.organization_id != org.id:
        raise NotFound("campaign not found")
    checked = _campaign_checked(org, data, campaign)
    before = {f: getattr(campaign, f) for f in CAMPAIGN_FIELDS}
    _campaign_set(campaign, data, checked)
    changed = [f for f in CAMPAIGN_FIELDS if getattr(campaign, f) != before[f]]
    audited_save(campaign, org=org, actor=actor, fields=changed, object_type="campaign")
    clear_caches()
    return campaign


# --- ad spend import ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendRow:
    """One day of spend to import. ``campaign`` None with ``new_campaign`` set: create that campaign on
    the channel first; both empty: spend booked on the channel as a whole."""

    line: int
    date: dt.date
    channel: Channel
    campaign: Campaign | None
    spend: Money
    impressions: int = 0
    clicks: int = 0
    new_campaign: str = ""


@dataclass(frozen=True)
class SpendImportResult:
    created: int
    updated: int
    campaigns_created: int


Resolved = list[tuple[SpendRow, Campaign | None]]


def _check_spend_rows(org: Organization, rows: Sequence[SpendRow]) -> None:
    for row in rows:
        if row.channel.organization_id != org.id:
            raise ValidationFailed.field("channel", f"line {row.line}: unknown channel")
        if row.campaign is not None and (
            row.campaign.organization_id != org.id or row.campaign.channel_id != row.channel.pk
        ):
            raise ValidationFailed.field("campaign", f"line {row.line}: unknown campaign")
        if row.channel.kind == ChannelKind.FREE and row.spend.amount:
            raise ValidationFailed.field(
                "channel", f"line {row.line}: {row.channel.name} is a free channel and has no spend"
            )
        if row.spend.currency != org.currency:
            raise ValidationFailed.field("spend", f"line {row.line}: must be in {org.currency}")
        if not Decimal(0) <= row.spend.amount <= MAX_SPEND:
            raise ValidationFailed.field("spend", f"line {row.line}: must be between 0 and {MAX_SPEND}")
        if row.impressions < 0 or row.clicks < 0:
            raise ValidationFailed.field("impressions", f"line {row.line}: must not be negative")


def _new_campaigns(
    org: Organization, actor: User | None, rows: Sequence[SpendRow]
) -> dict[tuple[Any, str], Campaign]:
    """The campaigns the rows name but that do not exist yet, created once per channel and name."""
    made: dict[tuple[Any, str], Campaign] = {}
    for row in rows:
        if row.campaign is not None or not row.new_campaign:
            continue
        key = (row.channel.pk, row.new_campaign.strip())
        if key not in made:
            found = campaign_find(org=org, channel=row.channel, name=key[1])
            made[key] = found or campaign_create(org=org, actor=actor, channel=row.channel, name=key[1])
    return made


def _key(row: SpendRow, campaign: Campaign | None) -> SpendKey:
    return ("c", campaign.pk, row.date) if campaign is not None else ("h", row.channel.pk, row.date)


def _resolve(rows: Sequence[SpendRow], made: dict[tuple[Any, str], Campaign]) -> Resolved:
    """Each row with its campaign (new ones included); the same day and campaign twice is refused."""
    resolved: Resolved = []
    seen: dict[SpendKey, int] = {}
    for row in rows:
        camp = row.campaign
        if camp is None and row.new_campaign:
            camp = made[(row.channel.pk, row.new_campaign.strip())]
        key = _key(row, camp)
        if key in seen:
            raise ValidationFailed.field("date", f"line {row.line}: the same day as line {seen[key]}")
        seen[key] = row.line
        resolved.append((row, camp))
    return resolved


def _spend_upsert(org: Organization, resolved: Resolved) -> tuple[list[AdSpend], list[AdSpend]]:
    """The rows to create and the stored rows updated in memory (not saved yet)."""
    existing = ad_spend_existing(
        org=org,
        first=min(r.date for r, _ in resolved),
        last=max(r.date for r, _ in resolved),
        campaign_ids={c.pk for _, c in resolved if c is not None},
        channel_ids={r.channel.pk for r, c in resolved if c is None},
    )
    now = timezone.now()
    to_create: list[AdSpend] = []
    to_update: list[AdSpend] = []
    for row, camp in resolved:
        obj = existing.get(_key(row, camp))
        if obj is None:
            obj = AdSpend(
                organization=org,
                date=row.date,
                channel=row.channel,
                campaign=camp,
                branch_id=camp.branch_id if camp is not None else None,
            )
            to_create.append(obj)
        else:
            to_update.append(obj)
        obj.spend, obj.currency = row.spend.amount, row.spend.currency
        obj.impressions, obj.clicks, obj.imported_at = row.impressions, row.clicks, now
    return to_create, to_update


@transaction.atomic
def ad_spend_import(*, org: Organization, actor: User | None, rows: Sequence[SpendRow]) -> SpendImportResult:
    """Import daily spend rows all-or-nothing: upsert on (organisation, date, campaign) — or (date,
    channel) for channel-level spend — so importing the same file again updates instead of adding."""
    _check_spend_rows(org, rows)
    made = _new_campaigns(org, actor, rows)
    resolved = _resolve(rows, made)
    if not resolved:
        return SpendImportResult(created=0, updated=0, campaigns_created=0)
    to_create, to_update = _spend_upsert(org, resolved)
    try:
        with transaction.atomic():
            AdSpend.objects.bulk_create(to_create, batch_size=1000)
            AdSpend.objects.bulk_update(
                to_update, ["spend", "currency", "impressions", "clicks", "imported_at"], batch_size=1000
            )
    except IntegrityError as exc:
        raise Conflict("spend for these days was imported at the same time; import the file again") from exc
    first = min(r.date for r, _ in resolved)
    last = max(r.date for r, _ in resolved)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="ad_spend_import",
        object_id=f"{first.isoformat()}..{last.isoformat()}",
        fields=["spend", "impressions", "clicks"],
    )
    return SpendImportResult(created=len(to_create), updated=len(to_update), campaigns_created=len(made))
