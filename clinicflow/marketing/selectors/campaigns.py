"""Reads of campaigns, their recipients, the weekly marketing count and the settings."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Collection

from django.db.models import Count

from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.marketing.models import Campaign, MarketingSettings, Recipient, RecipientStatus, Variant
from clinicflow.marketing.selectors.audiences import consent_q
from clinicflow.messaging.models import Message, Purpose, Status
from clinicflow.patients.models import Patient


def campaign_get(*, org: Organization, campaign_id: object, lock: bool = False) -> Campaign:
    pk = parse_uuid(campaign_id)
    if pk is None:
        raise NotFound("campaign not found")
    qs = Campaign.objects.for_org(org).filter(pk=pk)
    if lock:
        qs = qs.select_for_update(of=("self",))
    campaign = qs.select_related("audience", "offer", "service", "branch").first()
    if campaign is None:
        raise NotFound("campaign not found")
    return campaign


def campaign_list(*, org: Organization, status: str | None = None) -> list[Campaign]:
    qs = Campaign.objects.for_org(org)
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("-created_at"))


def variants(*, org: Organization, campaign: Campaign) -> list[Variant]:
    return list(Variant.objects.for_org(org).filter(campaign=campaign).order_by("key"))


def settings_get(*, org: Organization) -> MarketingSettings:
    return MarketingSettings.objects.for_org(org).first() or MarketingSettings(organization=org)


def pending(*, org: Organization, campaign: Campaign, limit: int) -> list[Recipient]:
    return list(
        Recipient.objects.for_org(org)
        .filter(campaign=campaign, status=RecipientStatus.PENDING)
        .select_related("patient")
        .order_by("id")[:limit]
    )


def marketing_sent_since(
    *, org: Organization, patient_ids: Collection[uuid.UUID], since: dt.datetime
) -> Counter[uuid.UUID]:
    """Marketing messages per patient in the outbox since ``since`` (cancelled and failed not counted):
    the count the weekly cap is held against."""
    rows = (
        Message.objects.for_org(org)
        .filter(patient_id__in=list(patient_ids), purpose=Purpose.MARKETING, created_at__gte=since)
        .exclude(status__in=[Status.CANCELLED, Status.FAILED])
        .values("patient_id")
        .annotate(n=Count("id"))
        .values_list("patient_id", "n")
    )
    return Counter(dict(rows))


def consented(*, org: Organization, patient_ids: Collection[uuid.UUID], channel: str) -> set[uuid.UUID]:
    """Of these patients, those whose latest marketing consent for the channel is a grant (one query
    for a whole batch; the outbox checks each message once more)."""
    rows = Patient.objects.for_org(org).filter(consent_q(org, channel), pk__in=list(patient_ids))
    return set(rows.values_list("pk", flat=True))


def recipient_counts(*, org: Organization, campaign: Campaign) -> dict[str, int]:
    rows = (
        Recipient.objects.for_org(org)
        .filter(campaign=campaign)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return dict(rows)


def recipients(*, org: Organization, campaign: Campaign, status: str | None = None) -> list[Recipient]:
    qs = Recipient.objects.for_org(org).filter(campaign=campaign)
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("id"))
