"""Reads of acquisition data. Every function takes the organisation first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.utils import timezone

from clinicflow.acquisition.models import (
    Call,
    CallbackTask,
    CallTagging,
    Campaign,
    Channel,
    Integration,
    ReviewListEntry,
    TrackingNumber,
    WebhookEvent,
    WebhookStatus,
)
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Branch, Organization
from clinicflow.core.phones import try_normalize
from clinicflow.patients.selectors import parse_uuid


@dataclass(frozen=True)
class CallFilter:
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    branch: Branch | None = None
    phone: str = ""
    tag: str = ""


def call_list(*, org: Organization, f: CallFilter | None = None) -> QuerySet[Call]:
    f = f or CallFilter()
    qs = (
        Call.objects.for_org(org)
        .select_related("patient", "channel", "campaign", "tracking_number", "administrator")
        .prefetch_related(Prefetch("taggings", queryset=CallTagging.objects.order_by("tag")))
    )
    if f.start is not None:
        qs = qs.filter(started_at__gte=f.start)
    if f.end is not None:
        qs = qs.filter(started_at__lt=f.end)
    if f.branch is not None:
        qs = qs.filter(branch=f.branch)
    if f.phone:
        e164 = try_normalize(f.phone, f.branch.country if f.branch else org.country)
        qs = qs.filter(caller_e164=e164) if e164 else qs.filter(caller_raw=f.phone[:40])
    if f.tag:
        qs = qs.filter(Exists(CallTagging.objects.filter(organization=org, call=OuterRef("pk"), tag=f.tag)))
    return qs.order_by("-started_at", "-id")


def call_get(*, org: Organization, call_id: object) -> Call:
    pk = parse_uuid(call_id)
    call = call_list(org=org).filter(pk=pk).first() if pk else None
    if call is None:
        raise NotFound("call not found")
    return call


def branch_get(*, org: Organization, branch_id: object) -> Branch:
    pk = parse_uuid(branch_id)
    branch = Branch.objects.for_org(org).filter(pk=pk).first() if pk else None
    if branch is None:
        raise NotFound("branch not found")
    return branch


def callbacks_open(*, org: Organization, branch: Branch | None = None) -> QuerySet[CallbackTask]:
    qs = CallbackTask.objects.for_org(org).filter(done_at__isnull=True).select_related("call")
    if branch is not None:
        qs = qs.filter(branch=branch)
    return qs.order_by("due_at")


def callbacks_overdue_count(*, org: Organization, branch: Branch | None = None) -> int:
    return callbacks_open(org=org, branch=branch).filter(due_at__lt=timezone.now()).count()


def callback_get(*, org: Organization, task_id: object) -> CallbackTask:
    pk = parse_uuid(task_id)
    task = CallbackTask.objects.for_org(org).filter(pk=pk).first() if pk else None
    if task is None:
        raise NotFound("callback not found")
    return task


def dead_letters(*, org: Organization, status: str = WebhookStatus.DEAD) -> QuerySet[WebhookEvent]:
    return WebhookEvent.objects.for_org(org).filter(status=status).order_by("-received_at")


def dead_letter_get(*, org: Organization, event_id: object) -> WebhookEvent:
    pk = parse_uuid(event_id)
    row = WebhookEvent.objects.for_org(org).filter(pk=pk).first() if pk else None
    if row is None:
        raise NotFound("dead letter not found")
    return row


def integrations(*, org: Organization) -> QuerySet[Integration]:
    return Integration.objects.for_org(org).order_by("created_at")


def integration_get(*, org: Organization, integration_id: object) -> Integration:
    pk = parse_uuid(integration_id)
    row = Integration.objects.for_org(org).filter(pk=pk).first() if pk else None
    if row is None:
        raise NotFound("integration not found")
    return row


def channels(*, org: Organization) -> QuerySet[Channel]:
    return Channel.objects.for_org(org).order_by("code")


def campaigns(*, org: Organization) -> QuerySet[Campaign]:
    return Campaign.objects.for_org(org).select_related("channel", "branch").order_by("name")


def tracking_numbers(*, org: Organization) -> QuerySet[TrackingNumber]:
    return (
        TrackingNumber.objects.for_org(org).select_related("branch", "campaign", "channel").order_by("e164")
    )


def review_list(*, org: Organization, week: dt.date) -> QuerySet[ReviewListEntry]:
    return (
        ReviewListEntry.objects.for_org(org)
        .filter(week=week)
        .select_related("call", "call__administrator", "call__branch")
        .order_by("verdict", "call__started_at")
    )


# --- marketing pages: channels, campaigns, ad spend, numbers, dead letters ----------------------------

from django.db.models import Count, Sum  # noqa: E402
from django.db.models.functions import Length  # noqa: E402

from clinicflow.acquisition.models import AdSpend, WebSession  # noqa: E402


def channel_get(*, org: Organization, channel_id: object) -> Channel:
    pk = parse_uuid(channel_id)
    row = Channel.objects.for_org(org).filter(pk=pk).first() if pk else None
    if row is None:
        raise NotFound("channel not found")
    return row


def campaign_get(*, org: Organization, campaign_id: object) -> Campaign:
    pk = parse_uuid(campaign_id)
    row = campaigns(org=org).filter(pk=pk).first() if pk else None
    if row is None:
        raise NotFound("campaign not found")
    return row


def tracking_number_get(*, org: Organization, number_id: object) -> TrackingNumber:
    pk = parse_uuid(number_id)
    row = tracking_numbers(org=org).filter(pk=pk).first() if pk else None
    if row is None:
        raise NotFound("tracking number not found")
    return row


def number_holders(*, org: Organization, at: dt.datetime | None = None) -> dict[object, WebSession]:
    """Dynamic number id → the web session holding it now (its lease has not run out)."""
    at = at or timezone.now()
    held = (
        WebSession.objects.for_org(org)
        .filter(number__isnull=False, held_until__gte=at)
        .select_related("channel", "campaign")
        .order_by("held_until")
    )
    return {s.number_id: s for s in held}


@dataclass(frozen=True)
class SpendFilter:
    start: dt.date | None = None
    end: dt.date | None = None  # inclusive
    channel: Channel | None = None
    campaign: Campaign | None = None
    branch: Branch | None = None


def ad_spend_list(*, org: Organization, f: SpendFilter | None = None) -> QuerySet[AdSpend]:
    f = f or SpendFilter()
    qs = AdSpend.objects.for_org(org)
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


def ad_spend_totals(*, org: Organization, f: SpendFilter | None = None) -> list[dict[str, object]]:
    """Totals per channel and currency of the filtered spend: channel name, currency, spend,
    impressions, clicks, days (rows)."""
    rows = (
        ad_spend_list(org=org, f=f)
        .order_by()
        .values("channel__name", "channel__code", "currency")
        .annotate(spend=Sum("spend"), impressions=Sum("impressions"), clicks=Sum("clicks"), rows=Count("id"))
        .order_by("channel__code", "currency")
    )
    return list(rows)


def dead_letter_list(*, org: Organization, status: str = WebhookStatus.DEAD) -> QuerySet[WebhookEvent]:
    """Dead letters without their bodies; ``size`` = the body's length in characters."""
    return dead_letters(org=org, status=status).defer("body", "headers").annotate(size=Length("body"))
