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
