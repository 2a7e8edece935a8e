"""Campaigns: create, queue (resolve the audience into recipients with a reproducible split) and send
in rate-limited batches through the outbox.

Who is messaged is decided twice: when the campaign is queued (the audience with marketing consent
for the channel) and again for every batch at send time: consent (``message_enqueue_many`` refuses a
marketing message without it, and the outbox worker checks once more before delivery), the clinic's
weekly cap of marketing messages per patient, and — for a capacity-aware campaign — whether the
targeted service still has free slots (when none is left, the campaign stops).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clinicflow.booking.selectors import slots_find
from clinicflow.catalogue.models import Service
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, ValidationFailed, require_choice
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.imports.engine.bulk import insert_rows
from clinicflow.marketing import links
from clinicflow.marketing.models import (
    HOLDOUT,
    Audience,
    Campaign,
    CampaignChannel,
    CampaignStatus,
    Offer,
    Recipient,
    RecipientStatus,
    Variant,
)
from clinicflow.marketing.selectors import audiences as audience_sel
from clinicflow.marketing.selectors import campaigns as selectors
from clinicflow.messaging.models import Kind, Purpose
from clinicflow.messaging.rendering import language_for
from clinicflow.messaging.services import message_enqueue_many

RECIPIENT_COLUMNS = ("id", "organization_id", "campaign_id", "patient_id", "variant", "status", "reason")
BUCKETS = 10_000
MAX_VARIANTS = 5
WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class VariantIn:
    headline: str
    text: str
    weight: int = 1


def bucket(campaign_id: object, patient_id: object) -> int:
    """0..9999 from the campaign and the patient: the same pair always lands in the same bucket."""
    digest = hashlib.sha256(f"{campaign_id}:{patient_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def _group(b: int, keys: Sequence[str], weights: Sequence[int], holdout: int) -> str:
    cut = holdout * BUCKETS // 100
    if b < cut:
        return HOLDOUT
    position = (b - cut) * sum(weights) // max(BUCKETS - cut, 1)
    for key, weight in zip(keys, weights, strict=True):
        if position < weight:
            return key
        position -= weight
    return keys[-1]


def assign(
    campaign_id: object, patient_id: object, keys: Sequence[str], weights: Sequence[int], holdout: int
) -> str:
    """The variant key (or ``HOLDOUT``) of the patient in the campaign: reproducible, by hash."""
    return _group(bucket(campaign_id, patient_id), keys, weights, holdout)


def split(
    campaign_id: object,
    patient_ids: Sequence[object],
    keys: Sequence[str],
    weights: Sequence[int],
    holdout: int,
) -> list[str]:
    """``assign`` for many patients at once: the group of each of the 10,000 buckets is worked out once,
    then each patient costs one hash."""
    groups = [_group(b, keys, weights, holdout) for b in range(BUCKETS)]
    prefix, sha = f"{campaign_id}:".encode(), hashlib.sha256
    return [
        groups[int.from_bytes(sha(prefix + str(p).encode()).digest()[:8], "big") % BUCKETS]
        for p in patient_ids
    ]


def new_ids(n: int) -> list[str]:
    """``n`` UUIDv7 ids of this millisecond as text (48 bits of milliseconds, version 7, the RFC variant,
    74 random bits from one read of the random source): COPY parses them, no UUID object per row."""
    ms = f"{time.time_ns() // 1_000_000:012x}"
    head, rand, variant = f"{ms[:8]}-{ms[8:]}-7", os.urandom(10 * n).hex(), "89ab"
    out = []
    for i in range(0, 20 * n, 20):
        h = rand[i : i + 20]
        out.append(f"{head}{h[:3]}-{variant[int(h[3], 16) & 3]}{h[4:7]}-{h[7:19]}")
    return out


@transaction.atomic
def campaign_create(
    *,
    org: Organization,
    actor: AbstractBaseUser | None,
    name: str,
    audience: Audience,
    channel: str,
    variants: Sequence[VariantIn],
    offer: Offer | None = None,
    holdout_percent: int = 10,
    cost: Decimal = Decimal(0),
    branch: Branch | None = None,
    service: Service | None = None,
    days_ahead: int = 0,
    per_minute: int = 200,
    request: HttpRequest | None = None,
) -> Campaign:
    """A draft campaign with its variants (A, B, ...)."""
    if not name.strip() or len(name) > 200:
        raise ValidationFailed.field("name", "is required, at most 200 characters")
    require_choice("channel", channel, CampaignChannel.values)
    for field_name, obj in (
        ("audience", audience),
        ("offer", offer),
        ("branch", branch),
        ("service", service),
    ):
        if obj is not None and obj.organization_id != org.pk:
            raise ValidationFailed.field(field_name, f"unknown {field_name}")
    if not 1 <= len(variants) <= MAX_VARIANTS:
        raise ValidationFailed.field("variants", f"1..{MAX_VARIANTS} variants")
    for v in variants:
        if not v.headline.strip() or len(v.headline) > 120 or not v.text.strip() or len(v.text) > 600:
            raise ValidationFailed.field("variants", "each needs a headline (120) and a text (600)")
        if not 1 <= v.weight <= 100:
            raise ValidationFailed.field("variants", "weights are 1..100")
    if not 0 <= holdout_percent <= 50:
        raise ValidationFailed.field("holdout_percent", "must be 0..50")
    if cost < 0:
        raise ValidationFailed.field("cost", "must not be negative")
    if (service is None) != (branch is None) or (service is not None and not 1 <= days_ahead <= 30):
        raise ValidationFailed.field(
            "days_ahead", "a capacity-aware campaign names a branch, a service and 1..30 days"
        )
    if not 1 <= per_minute <= 10_000:
        raise ValidationFailed.field("per_minute", "must be 1..10000")
    campaign = Campaign.objects.create(
        organization=org,
        name=name.strip(),
        audience=audience,
        offer=offer,
        channel=channel,
        holdout_percent=holdout_percent,
        cost=cost,
        currency=org.currency,
        branch=branch,
        service=service,
        days_ahead=days_ahead,
        per_minute=per_minute,
        created_by=getattr(actor, "pk", None),
    )
    Variant.objects.bulk_create(
        [
            Variant(
                organization=org,
                campaign=campaign,
                key=chr(ord("A") + i),
                headline=v.headline.strip(),
                text=v.text.strip(),
                weight=v.weight,
            )
            for i, v in enumerate(variants)
        ]
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="marketing_campaign",
        object_id=campaign.pk,
        fields=["name", "audience", "channel", "offer", "holdout_percent", "variants"],
        request=request,
    )
    return campaign


def free_slots(*, org: Organization, campaign: Campaign, limit: int | None = 500) -> int:
    """Free starts of the campaign's service at its branch over the next ``days_ahead`` days."""
    if campaign.service is None or campaign.branch is None:
        return 0
    today = timezone.now().astimezone(campaign.branch.tz).date()
    found = slots_find(
        org=org,
        branch=campaign.branch,
        service=campaign.service,
        date_from=today,
        date_to=today + dt.timedelta(days=campaign.days_ahead - 1),
        limit=limit,
        one_per_start=True,
    )
    return len(found)


@transaction.atomic
def campaign_queue(
    *,
    org: Organization,
    actor: AbstractBaseUser | None,
    campaign: Campaign,
    request: HttpRequest | None = None,
) -> int:
    """Resolve the audience (with marketing consent for the channel) into recipients, each with its
    variant or the holdout; the job sends them in batches. Returns the recipients queued."""
    campaign = selectors.campaign_get(org=org, campaign_id=campaign.pk, lock=True)
    if campaign.status != CampaignStatus.DRAFT:
        raise Conflict("the campaign has been queued already")
    if campaign.service is not None:
        campaign.free_slots = free_slots(org=org, campaign=campaign)
        if campaign.free_slots == 0:
            raise ValidationFailed.field("service", "no free slots in the next days: nothing to fill")
    vs = selectors.variants(org=org, campaign=campaign)
    keys, weights = [v.key for v in vs], [v.weight for v in vs]
    filters = {**campaign.audience.filters, "channel": campaign.channel}
    pids = list(
        audience_sel.audience_patients(org=org, filters=filters).order_by().values_list("pk", flat=True)
    )  # one read (a server-side cursor costs more than the ids' memory)
    groups = split(campaign.pk, pids, keys, weights, campaign.holdout_percent)
    pending, held = str(RecipientStatus.PENDING), str(RecipientStatus.HOLDOUT)
    rows = [
        (rid, org.pk, campaign.pk, pid, key, held if key == HOLDOUT else pending, "")
        for rid, pid, key in zip(new_ids(len(pids)), pids, groups, strict=True)
    ]
    # PostgreSQL: one COPY (a 100,000-patient campaign in seconds); elsewhere bulk_create
    insert_rows(Recipient, RECIPIENT_COLUMNS, rows)
    campaign.status, campaign.queued_at = CampaignStatus.SENDING, timezone.now()
    campaign.save(update_fields=["status", "queued_at", "free_slots"])
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="marketing_campaign",
        object_id=campaign.pk,
        fields=["status"],
        request=request,
    )
    return len(rows)


def _skip(org: Organization, ids: Sequence[uuid.UUID], reason: str) -> None:
    if ids:
        Recipient.objects.for_org(org).filter(pk__in=list(ids)).update(
            status=RecipientStatus.SKIPPED, reason=reason
        )


def _stop(org: Organization, campaign: Campaign, reason: str) -> None:
    Recipient.objects.for_org(org).filter(campaign=campaign, status=RecipientStatus.PENDING).update(
        status=RecipientStatus.SKIPPED, reason=reason
    )
    campaign.status = CampaignStatus.STOPPED if reason == "slots_filled" else CampaignStatus.DONE
    campaign.save(update_fields=["status"])


def _text(campaign: Campaign, variant: Variant, patient_id: uuid.UUID, language: str) -> tuple[str, str]:
    offer = links.offer_url(campaign.organization_id, patient_id, campaign.pk)
    unsubscribe = links.unsubscribe_url(campaign.organization_id, patient_id, campaign.channel)
    text = f"{variant.text} {offer}"
    if campaign.channel == CampaignChannel.EMAIL:
        with translation.override(language):
            text = f"{text}\n\n{_('Unsubscribe')}: {unsubscribe}"
    return text, unsubscribe


@transaction.atomic
def campaign_send_batch(*, org: Organization, campaign: Campaign, limit: int | None = None) -> int:
    """Send the next batch (at most the campaign's rate per minute and the clinic's batch size) of
    pending recipients to the outbox; returns the messages queued."""
    campaign = selectors.campaign_get(org=org, campaign_id=campaign.pk, lock=True)
    if campaign.status != CampaignStatus.SENDING:
        return 0
    conf = selectors.settings_get(org=org)
    size = min(limit or conf.batch_size, campaign.per_minute, conf.batch_size)
    batch = selectors.pending(org=org, campaign=campaign, limit=size)
    if not batch:
        _stop(org, campaign, "")
        return 0
    if campaign.service is not None and free_slots(org=org, campaign=campaign, limit=1) == 0:
        _stop(org, campaign, "slots_filled")
        return 0
    now = timezone.now()
    ids = [r.patient_id for r in batch]
    sent = selectors.marketing_sent_since(org=org, patient_ids=ids, since=now - WEEK)
    consented = selectors.consented(org=org, patient_ids=ids, channel=campaign.channel)
    by_key = {v.key: v for v in selectors.variants(org=org, campaign=campaign)}
    over_cap, no_consent, done = [], [], []
    for r in batch:
        if sent[r.patient_id] >= conf.weekly_cap:
            over_cap.append(r.pk)
            continue
        if r.patient_id not in consented:  # withdrawn since the campaign was queued
            no_consent.append(r.pk)
            continue
        variant = by_key[r.variant]
        language = language_for(r.patient.preferred_language)
        text, unsubscribe = _text(campaign, variant, r.patient_id, language)
        item = {
            "channel": campaign.channel,
            "kind": Kind.MARKETING,
            "purpose": Purpose.MARKETING,
            "context": {"headline": variant.headline, "text": text, "manage_url": unsubscribe},
            "dedupe_key": f"mkt:{campaign.pk}:{r.patient_id}",
        }
        # the outbox's one enqueue path checks consent and the address once more
        message = message_enqueue_many(org=org, patient=r.patient, items=[item])[0]  # type: ignore[list-item]
        if message is None:
            no_consent.append(r.pk)
            continue
        r.status, r.message_ref, r.sent_at = RecipientStatus.QUEUED, message.pk, now
        done.append(r)
        sent[r.patient_id] += 1
    # one UPDATE for the batch's queued recipients, one per reason skipped
    Recipient.objects.for_org(org).bulk_update(done, ["status", "message_ref", "sent_at"])
    _skip(org, over_cap, "weekly_cap")
    _skip(org, no_consent, "no_consent_or_address")
    return len(done)
