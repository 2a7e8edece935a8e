"""Writes of acquisition and call tracking. Keyword-only, atomic, organisation first."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from clinicflow.acquisition.attribution import DIRECT, Visit, classify_visit
from clinicflow.acquisition.defaults import (
    channel_for_code,
    tracking_settings,
)
from clinicflow.acquisition.ingestion import call_ingest, clear_caches
from clinicflow.acquisition.models import (
    Call,
    CallbackTask,
    CallChecklist,
    CallChecklistItem,
    CallScore,
    CallTag,
    CallTagging,
    Campaign,
    Channel,
    ChannelCode,
    ChannelKind,
    Integration,
    Lead,
    NumberLease,
    NumberPool,
    Provider,
    ReviewListEntry,
    ReviewVerdict,
    TrackingNumber,
    TrackingSettings,
    WebhookEvent,
    WebhookStatus,
    WebSession,
    hash_secret,
)
from clinicflow.acquisition.providers import PROVIDERS
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, NotFound, ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.phones import InvalidPhone, normalize, try_normalize
from clinicflow.patients.selectors import patient_find_by_phone

if TYPE_CHECKING:
    from clinicflow.accounts.models import User

SESSION_TIMEOUT = dt.timedelta(minutes=30)


def unique_window() -> dt.timedelta:
    return dt.timedelta(days=int(settings.CLINICFLOW.get("UNIQUE_CALL_WINDOW_DAYS", 30)))


def _actor(actor: User | None) -> User | None:
    return actor if actor is not None and actor.pk else None


# --- channels, campaigns, settings -------------------------------------------------------------------


@transaction.atomic
def channel_update(
    *, org: Organization, actor: User | None, channel: Channel, name: str, kind: str
) -> Channel:
    if not name.strip():
        raise ValidationFailed.field("name", "is required")
    if kind not in ChannelKind.values:
        raise ValidationFailed.field("kind", f"must be one of {', '.join(ChannelKind.values)}")
    channel.name, channel.kind = name.strip()[:100], kind
    channel.save(update_fields=["name", "kind"])
    audit_record(org=org, actor=actor, action=AuditAction.UPDATE, object_type="channel", object_id=channel.pk)
    return channel


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
    if channel.organization_id != org.id:
        raise ValidationFailed.field("channel", "unknown channel")
    if branch is not None and branch.organization_id != org.id:
        raise ValidationFailed.field("branch", "unknown branch")
    name = name.strip()
    if not name:
        raise ValidationFailed.field("name", "is required")
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationFailed.field("ends_on", "is before the start")
    if Campaign.objects.for_org(org).filter(channel=channel, name=name).exists():
        raise Conflict(f"campaign {name!r} already exists", fields={"name": ["already exists"]})
    campaign = Campaign.objects.create(
        organization=org,
        channel=channel,
        name=name[:200],
        utm_source=utm_source.strip()[:100],
        utm_medium=utm_medium.strip()[:100],
        utm_campaign=utm_campaign.strip()[:200],
        branch=branch,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    audit_record(
        org=org, actor=actor, action=AuditAction.CREATE, object_type="campaign", object_id=campaign.pk
    )
    return campaign


@transaction.atomic
def tracking_settings_update(
    *,
    org: Organization,
    actor: User | None,
    hold_minutes: int,
    allowed_origins: str,
    gross_margin: Decimal,
    callback_minutes: int,
    default_branch: Branch | None,
) -> TrackingSettings:
    row = tracking_settings(org=org)
    if not 1 <= hold_minutes <= 24 * 60:
        raise ValidationFailed.field("hold_minutes", "must be between 1 and 1440")
    if not Decimal(0) < gross_margin <= Decimal(1):
        raise ValidationFailed.field("gross_margin", "must be above 0 and at most 1")
    if default_branch is not None and default_branch.organization_id != org.id:
        raise ValidationFailed.field("default_branch", "unknown branch")
    for origin in allowed_origins.splitlines():
        if origin.strip() and not origin.strip().startswith(("https://", "http://")):
            raise ValidationFailed.field(
                "allowed_origins", f"{origin.strip()[:60]!r} is not an http(s) origin"
            )
    row.hold_minutes = hold_minutes
    row.allowed_origins = allowed_origins.strip()
    row.gross_margin = gross_margin
    row.callback_minutes = callback_minutes
    row.default_branch = default_branch
    row.save()
    clear_caches()
    audit_record(
        org=org, actor=actor, action=AuditAction.UPDATE, object_type="tracking_settings", object_id=row.pk
    )
    return row


@transaction.atomic
def tracking_number_add(
    *,
    org: Organization,
    actor: User | None,
    number: str,
    pool: str,
    branch: Branch | None = None,
    campaign: Campaign | None = None,
    channel: Channel | None = None,
) -> TrackingNumber:
    region = branch.country if branch is not None else org.country
    try:
        e164 = normalize(number, region)
    except InvalidPhone as exc:
        raise ValidationFailed.field("number", f"{number[:40]!r} {exc}") from exc
    if pool not in NumberPool.values:
        raise ValidationFailed.field("pool", f"must be one of {', '.join(NumberPool.values)}")
    for name, obj in (("branch", branch), ("campaign", campaign), ("channel", channel)):
        if obj is not None and obj.organization_id != org.id:
            raise ValidationFailed.field(name, f"unknown {name}")
    if pool == NumberPool.STATIC and campaign is None and channel is None:
        raise ValidationFailed.field("campaign", "a static number needs a campaign or a channel")
    if TrackingNumber.objects.for_org(org).filter(e164=e164).exists():
        raise Conflict(f"{e164} is already a tracking number", fields={"number": ["already exists"]})
    row = TrackingNumber.objects.create(
        organization=org,
        e164=e164,
        pool=pool,
        branch=branch,
        campaign=campaign if pool == NumberPool.STATIC else None,
        channel=(channel or (campaign.channel if campaign else None)) if pool == NumberPool.STATIC else None,
    )
    audit_record(
        org=org, actor=actor, action=AuditAction.CREATE, object_type="tracking_number", object_id=row.pk
    )
    return row


@transaction.atomic
def tracking_number_set_active(
    *, org: Organization, actor: User | None, number: TrackingNumber, active: bool
) -> TrackingNumber:
    number.is_active = active
    number.save(update_fields=["is_active"])
    clear_caches()
    audit_record(
        org=org, actor=actor, action=AuditAction.UPDATE, object_type="tracking_number", object_id=number.pk
    )
    return number


# --- integrations -------------------------------------------------------------------------------------


def webhook_path(provider: str, secret: str) -> str:
    return f"/hooks/calls/{provider}/{secret}"


@transaction.atomic
def integration_create(
    *,
    org: Organization,
    actor: User | None,
    provider: str,
    signing_key: str = "",
    name: str = "",
    branch: Branch | None = None,
) -> tuple[Integration, str]:
    """Create an integration; returns it with the raw URL secret (shown once, stored hashed)."""
    if provider not in Provider.values:
        raise ValidationFailed.field("provider", f"must be one of {', '.join(Provider.values)}")
    if branch is not None and branch.organization_id != org.id:
        raise ValidationFailed.field("branch", "unknown branch")
    if len(signing_key) > 200:
        raise ValidationFailed.field("signing_key", "at most 200 characters")
    secret = secrets.token_urlsafe(32)
    integration = Integration.objects.create(
        organization=org,
        provider=provider,
        name=name.strip()[:100] or Provider(provider).label,
        secret_hash=hash_secret(secret),
        secret_prefix=secret[:6],
        signing_key=signing_key.strip(),
        branch=branch,
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="integration",
        object_id=integration.pk,
        fields=["provider", "signing_key"] if signing_key else ["provider"],
    )
    return integration, secret


@transaction.atomic
def integration_set_active(
    *, org: Organization, actor: User | None, integration: Integration, active: bool
) -> Integration:
    if integration.organization_id != org.id:
        raise NotFound("integration not found")
    integration.is_active = active
    integration.save(update_fields=["is_active"])
    audit_record(
        org=org, actor=actor, action=AuditAction.UPDATE, object_type="integration", object_id=integration.pk
    )
    return integration


# --- webhook dead letters -----------------------------------------------------------------------------

HEADER_KEEP = ("Content-Type", "Content-Length", "User-Agent", "Signature", "X-Clinicflow-Signature")


def dead_letter_store(
    *,
    integration: Integration,
    http_status: int,
    error: str,
    content_type: str,
    headers: Mapping[str, str],
    body: bytes,
    limit: int,
) -> WebhookEvent:
    truncated = len(body) > limit
    return WebhookEvent.objects.create(
        organization_id=integration.organization_id,
        integration=integration,
        provider=integration.provider,
        http_status=http_status,
        error=error[:500],
        content_type=content_type[:100],
        headers={k: str(headers.get(k, ""))[:300] for k in HEADER_KEEP if headers.get(k)},
        body=body[:limit].decode("utf-8", errors="replace"),
        body_truncated=truncated,
    )


@transaction.atomic
def dead_letter_replay(*, org: Organization, actor: User | None, event: WebhookEvent) -> WebhookEvent:
    """Run a stored delivery through its provider's current normaliser again."""
    from clinicflow.acquisition.webhooks import PayloadProblem, parse_body

    if event.organization_id != org.id:
        raise NotFound("dead letter not found")
    if event.status == WebhookStatus.REPLAYED:
        raise Conflict("this delivery was already replayed")
    integration = Integration.objects.for_org(org).filter(pk=event.integration_id).first()
    spec = PROVIDERS[event.provider]
    try:
        if event.body_truncated:
            raise PayloadProblem(413, "the body was larger than the limit and was not kept whole")
        payload = parse_body(event.body.encode(), event.content_type)
        normalised = spec.normalise(payload)
        result = call_ingest(
            org=org, integration=integration, provider=event.provider, event=normalised, payload=payload
        )
    except Exception as exc:
        event.replay_error = str(exc)[:500]
        event.replayed_at = timezone.now()
        event.save(update_fields=["replay_error", "replayed_at"])
        audit_record(
            org=org, actor=actor, action=AuditAction.UPDATE, object_type="webhook_event", object_id=event.pk
        )
        raise ValidationFailed(f"replay failed: {str(exc)[:300]}") from exc
    event.status = WebhookStatus.REPLAYED
    event.replayed_at = timezone.now()
    event.replay_error = ""
    event.call = result.call
    event.save(update_fields=["status", "replayed_at", "replay_error", "call"])
    audit_record(
        org=org, actor=actor, action=AuditAction.UPDATE, object_type="webhook_event", object_id=event.pk
    )
    return event


@transaction.atomic
def dead_letter_discard(*, org: Organization, actor: User | None, event: WebhookEvent) -> WebhookEvent:
    if event.organization_id != org.id:
        raise NotFound("dead letter not found")
    event.status = WebhookStatus.DISCARDED
    event.save(update_fields=["status"])
    audit_record(
        org=org, actor=actor, action=AuditAction.UPDATE, object_type="webhook_event", object_id=event.pk
    )
    return event


# --- front desk -----------------------------------------------------------------------------------------


@transaction.atomic
def call_tag_set(*, org: Organization, actor: User | None, call: Call, tags: list[str]) -> list[str]:
    bad = [t for t in tags if t not in CallTag.values]
    if bad:
        raise ValidationFailed.field("tags", f"unknown tag {bad[0][:30]!r}; use {', '.join(CallTag.values)}")
    wanted = set(tags)
    CallTagging.objects.for_org(org).filter(call=call).exclude(tag__in=wanted).delete()
    have = set(CallTagging.objects.for_org(org).filter(call=call).values_list("tag", flat=True))
    CallTagging.objects.bulk_create(
        [
            CallTagging(organization=org, call=call, tag=t, tagged_by=_actor(actor))
            for t in sorted(wanted - have)
        ]
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="call",
        object_id=call.pk,
        fields=["tags"],
    )
    return sorted(wanted)


def checklist_for(*, org: Organization, branch: Branch | None) -> CallChecklist:
    """The branch's checklist, else the organisation's default (created with the standard items)."""
    if branch is not None:
        own = CallChecklist.objects.for_org(org).filter(branch=branch).first()
        if own is not None:
            return own
    default = CallChecklist.objects.for_org(org).filter(branch__isnull=True).first()
    if default is None:
        default = CallChecklist.objects.create(organization=org, branch=None, name="Standard call checklist")
        CallChecklistItem.objects.bulk_create(
            [
                CallChecklistItem(organization=org, checklist=default, code=code, label=label, position=i)
                for i, (code, label) in enumerate(
                    [
                        ("greeting", "Greets and introduces the clinic"),
                        ("services_prices", "Knows the services and prices"),
                        ("offers_slot", "Offers a concrete slot"),
                        ("books", "Books the visit"),
                        ("contact", "Takes the name and confirms the phone"),
                    ]
                )
            ]
        )
    return default


@transaction.atomic
def call_score(
    *, org: Organization, actor: User | None, call: Call, results: Mapping[str, bool]
) -> Decimal | None:
    """Score a call against its branch's checklist; ``results`` maps item code → passed."""
    checklist = checklist_for(org=org, branch=call.branch)
    items = {
        i.code: i for i in CallChecklistItem.objects.for_org(org).filter(checklist=checklist, is_active=True)
    }
    unknown = [c for c in results if c not in items]
    if unknown:
        raise ValidationFailed.field("items", f"unknown checklist item {unknown[0][:40]!r}")
    now = timezone.now()
    for code, passed in results.items():
        CallScore.objects.update_or_create(
            organization=org,
            call=call,
            item=items[code],
            defaults={"passed": bool(passed), "scored_by": _actor(actor), "scored_at": now},
        )
    scored = list(CallScore.objects.for_org(org).filter(call=call).values_list("passed", flat=True))
    call.score = (
        (Decimal(sum(scored)) * 100 / Decimal(len(scored))).quantize(Decimal("0.1")) if scored else None
    )
    call.save(update_fields=["score"])
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="call",
        object_id=call.pk,
        fields=["score"],
    )
    return call.score


@transaction.atomic
def call_assign_patient(*, org: Organization, actor: User | None, call: Call, patient_id: Any) -> Call:
    from clinicflow.patients.selectors import patient_get

    patient = patient_get(org=org, patient_id=patient_id)
    call.patient = patient
    call.save(update_fields=["patient"])
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="call",
        object_id=call.pk,
        fields=["patient"],
    )
    return call


@transaction.atomic
def callback_done(
    *, org: Organization, actor: User | None, task: CallbackTask, outcome: str = ""
) -> CallbackTask:
    if task.done_at is not None:
        raise Conflict("this callback is already done")
    task.done_at = timezone.now()
    task.outcome = outcome.strip()[:200]
    task.assigned_to = task.assigned_to or _actor(actor)
    task.save(update_fields=["done_at", "outcome", "assigned_to"])
    audit_record(
        org=org, actor=actor, action=AuditAction.UPDATE, object_type="callback_task", object_id=task.pk
    )
    return task


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@transaction.atomic
def review_add(
    *, org: Organization, actor: User | None, call: Call, verdict: str, note: str = ""
) -> ReviewListEntry:
    if verdict not in ReviewVerdict.values:
        raise ValidationFailed.field("verdict", "must be good or bad")
    entry, _ = ReviewListEntry.objects.update_or_create(
        organization=org,
        call=call,
        defaults={
            "week": week_of(call.started_at.date()),
            "verdict": verdict,
            "note": note.strip()[:500],
            "added_by": _actor(actor),
        },
    )
    audit_record(
        org=org, actor=actor, action=AuditAction.UPDATE, object_type="review_entry", object_id=entry.pk
    )
    return entry


# --- website tracking -----------------------------------------------------------------------------------


def _lease_number(
    *, org: Organization, session: WebSession, branch: Branch | None, now: dt.datetime, hold: dt.timedelta
) -> None:
    """Give the session a free dynamic number (or keep and extend the one it holds)."""
    if session.number_id and session.held_until and session.held_until >= now:
        lease = (
            NumberLease.objects.for_org(org)
            .filter(session=session, number_id=session.number_id)
            .order_by("-leased_at")
            .first()
        )
        session.held_until = now + hold
        if lease is not None:
            NumberLease.objects.filter(pk=lease.pk).update(held_until=session.held_until)
        return
    busy = (
        WebSession.objects.for_org(org).filter(number__isnull=False, held_until__gte=now).values("number_id")
    )
    pool = (
        TrackingNumber.objects.for_org(org)
        .filter(pool=NumberPool.DYNAMIC, is_active=True)
        .exclude(pk__in=busy)
    )
    if branch is not None:
        pool = pool.filter(Q(branch=branch) | Q(branch__isnull=True))
    # Prefer the number this visitor had before, then the one rested longest.
    ids = list(pool.values_list("pk", flat=True)[:200])
    if not ids:
        session.number = None
        session.held_until = None
        return
    candidates = TrackingNumber.objects.select_for_update(skip_locked=True).filter(pk__in=ids)
    chosen = None
    if session.number_id in ids:
        chosen = candidates.filter(pk=session.number_id).first()
    if chosen is None:
        last_used = {
            row["number_id"]: row["last"]
            for row in NumberLease.objects.for_org(org)
            .filter(number_id__in=ids)
            .values("number_id")
            .annotate(last=models_max("held_until"))
        }
        for pk in sorted(
            ids, key=lambda p: (last_used.get(p) or dt.datetime.min.replace(tzinfo=dt.UTC), str(p))
        ):
            chosen = candidates.filter(pk=pk).first()
            if chosen is not None:
                break
    if chosen is None:
        return
    session.number = chosen
    session.held_until = now + hold
    NumberLease.objects.create(
        organization=org, number=chosen, session=session, leased_at=now, held_until=session.held_until
    )


def models_max(field: str) -> Any:
    from django.db.models import Max

    return Max(field)


@dataclass(frozen=True)
class SessionInput:
    client_id: str
    url: str = ""
    referrer: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    utm_content: str = ""
    utm_term: str = ""
    gclid: str = ""
    yclid: str = ""
    branch: str = ""


@transaction.atomic
def session_touch(*, org: Organization, data: SessionInput, now: dt.datetime | None = None) -> WebSession:
    """Record a page view: continue the visitor's session (or start one) and hold a dynamic number."""
    now = now or timezone.now()
    cfg = tracking_settings(org=org)
    hold = dt.timedelta(minutes=cfg.hold_minutes)
    branch = (
        Branch.objects.for_org(org).filter(slug=data.branch[:60]).first() if data.branch else None
    ) or cfg.default_branch
    session = (
        WebSession.objects.select_for_update()
        .filter(organization=org, client_id=data.client_id, last_seen_at__gte=now - SESSION_TIMEOUT)
        .order_by("-last_seen_at")
        .first()
    )
    has_new_source = bool(data.utm_source or data.utm_medium or data.gclid or data.yclid)
    if (
        session is not None
        and has_new_source
        and (data.utm_campaign or data.gclid or data.yclid)
        and (data.utm_campaign != session.utm_campaign or data.utm_source != session.utm_source)
    ):
        session = None  # a new ad click starts a new session
    if session is None:
        host = ""
        try:
            from urllib.parse import urlsplit

            host = (urlsplit(data.url).hostname or "").lower()
        except ValueError:
            host = ""
        found = classify_visit(
            Visit(
                utm_source=data.utm_source,
                utm_medium=data.utm_medium,
                utm_campaign=data.utm_campaign,
                referrer=data.referrer,
                gclid=data.gclid,
                yclid=data.yclid,
                site_host=host,
            )
        )
        campaign = (
            Campaign.objects.for_org(org)
            .filter(utm_campaign=data.utm_campaign)
            .select_related("channel")
            .first()
            if data.utm_campaign
            else None
        )
        channel = campaign.channel if campaign else channel_for_code(org=org, code=found.channel)
        previous = (
            WebSession.objects.for_org(org).filter(client_id=data.client_id).order_by("-last_seen_at").first()
        )
        session = WebSession(
            organization=org,
            client_id=data.client_id,
            started_at=now,
            last_seen_at=now,
            utm_source=data.utm_source[:100],
            utm_medium=data.utm_medium[:100],
            utm_campaign=data.utm_campaign[:200],
            utm_content=data.utm_content[:200],
            utm_term=data.utm_term[:200],
            referrer=data.referrer[:500],
            landing_page=data.url[:500],
            gclid=data.gclid[:200],
            yclid=data.yclid[:200],
            source=found.source[:100],
            medium=found.medium[:100],
            channel=channel,
            campaign=campaign,
            branch=branch or (campaign.branch if campaign else None),
            number=previous.number if previous else None,
            patient=previous.patient if previous else None,
        )
        session.save(force_insert=True)
    session.last_seen_at = now
    _lease_number(org=org, session=session, branch=session.branch, now=now, hold=hold)
    session.save(update_fields=["last_seen_at", "number", "held_until"])
    return session


@transaction.atomic
def lead_create(
    *,
    org: Organization,
    session: WebSession | None,
    name: str,
    phone: str,
    email: str = "",
    message: str = "",
    page_url: str = "",
    branch: Branch | None = None,
    now: dt.datetime | None = None,
) -> Lead:
    """A web-form lead. The phone is normalised to E.164 and matched to a patient card."""
    region = branch or (session.branch if session else None) or None
    region_code = region.country if region is not None else org.country
    phone = phone.strip()
    e164 = try_normalize(phone, region_code) if phone else None
    if phone and e164 is None:
        raise ValidationFailed.field("phone", f"{phone[:40]!r} is not a valid phone number")
    if not e164 and not email.strip():
        raise ValidationFailed.field("phone", "a phone number or an e-mail is required")
    patient = None
    if e164:
        matches = patient_find_by_phone(org=org, e164=e164)
        patient = min(matches, key=lambda p: (p.created_at, str(p.pk))) if matches else None
    lead = Lead.objects.create(
        organization=org,
        session=session,
        branch=branch or (session.branch if session else None),
        name=name.strip()[:200],
        phone=e164 or "",
        phone_raw=phone[:40],
        email=email.strip()[:254],
        message=message.strip()[:5000],
        page_url=page_url[:500],
        patient=patient,
        channel_id=session.channel_id if session else channel_for_code(org=org, code=DIRECT).pk,
        campaign_id=session.campaign_id if session else None,
        source=session.source if session else "(direct)",
        medium=session.medium if session else "(none)",
        created_at=now or timezone.now(),
    )
    if session is not None and patient is not None and session.patient_id is None:
        WebSession.objects.filter(pk=session.pk).update(patient=patient)
    return lead


# --- marketing pages: channels, campaigns, ad spend import -------------------------------------------

from collections.abc import Sequence  # noqa: E402

from django.db import IntegrityError  # noqa: E402

from clinicflow.acquisition.models import AdSpend  # noqa: E402
from clinicflow.core.money import quantize  # noqa: E402


@transaction.atomic
def channel_create(*, org: Organization, actor: User | None, code: str, name: str, kind: str) -> Channel:
    """Add one of the standard channel codes to the organisation under its own name."""
    if code not in ChannelCode.values:
        raise ValidationFailed.field("code", f"must be one of {', '.join(ChannelCode.values)}")
    if kind not in ChannelKind.values:
        raise ValidationFailed.field("kind", f"must be one of {', '.join(ChannelKind.values)}")
    if not name.strip():
        raise ValidationFailed.field("name", "is required")
    if Channel.objects.for_org(org).filter(code=code).exists():
        raise Conflict(f"channel {code!r} already exists", fields={"code": ["already exists"]})
    channel = Channel.objects.create(organization=org, code=code, name=name.strip()[:100], kind=kind)
    audit_record(org=org, actor=actor, action=AuditAction.CREATE, object_type="channel", object_id=channel.pk)
    return channel


@transaction.atomic
def campaign_update(
    *,
    org: Organization,
    actor: User | None,
    campaign: Campaign,
    channel: Channel,
    name: str,
    utm_source: str = "",
    utm_medium: str = "",
    utm_campaign: str = "",
    branch: Branch | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    is_active: bool = True,
) -> Campaign:
    if campaign.organization_id != org.id:
        raise NotFound("campaign not found")
    if channel.organization_id != org.id:
        raise ValidationFailed.field("channel", "unknown channel")
    if branch is not None and branch.organization_id != org.id:
        raise ValidationFailed.field("branch", "unknown branch")
    name = name.strip()
    if not name:
        raise ValidationFailed.field("name", "is required")
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationFailed.field("ends_on", "is before the start")
    if Campaign.objects.for_org(org).filter(channel=channel, name=name).exclude(pk=campaign.pk).exists():
        raise Conflict(f"campaign {name!r} already exists", fields={"name": ["already exists"]})
    before = {f: getattr(campaign, f) for f in CAMPAIGN_FIELDS}
    campaign.channel = channel
    campaign.name = name[:200]
    campaign.utm_source = utm_source.strip()[:100]
    campaign.utm_medium = utm_medium.strip()[:100]
    campaign.utm_campaign = utm_campaign.strip()[:200]
    campaign.branch = branch
    campaign.starts_on = starts_on
    campaign.ends_on = ends_on
    campaign.is_active = is_active
    changed = [f for f in CAMPAIGN_FIELDS if getattr(campaign, f) != before[f]]
    campaign.save(update_fields=[f.removesuffix("_id") for f in CAMPAIGN_FIELDS])
    clear_caches()
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="campaign",
        object_id=campaign.pk,
        fields=changed,
    )
    return campaign


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


@dataclass(frozen=True)
class SpendRow:
    """One day of spend to import. ``campaign`` None with ``new_campaign`` set: create that campaign on
    the channel first; both empty: spend booked on the channel as a whole."""

    line: int
    date: dt.date
    channel: Channel
    campaign: Campaign | None
    spend: Decimal
    impressions: int = 0
    clicks: int = 0
    new_campaign: str = ""


@dataclass(frozen=True)
class SpendImportResult:
    created: int
    updated: int
    campaigns_created: int


MAX_SPEND = Decimal("999999999999.99")


@transaction.atomic
def ad_spend_import(*, org: Organization, actor: User | None, rows: Sequence[SpendRow]) -> SpendImportResult:
    """Import daily spend rows all-or-nothing: upsert on (organisation, date, campaign) — or (date,
    channel) for channel-level spend — so importing the same file again updates instead of adding."""
    currency = org.currency
    for row in rows:
        if row.channel.organization_id != org.id:
            raise ValidationFailed.field("channel", f"line {row.line}: unknown channel")
        if row.campaign is not None and (
            row.campaign.organization_id != org.id or row.campaign.channel_id != row.channel.pk
        ):
            raise ValidationFailed.field("campaign", f"line {row.line}: unknown campaign")
        if not Decimal(0) <= row.spend <= MAX_SPEND:
            raise ValidationFailed.field("spend", f"line {row.line}: must be between 0 and {MAX_SPEND}")
        if row.impressions < 0 or row.clicks < 0:
            raise ValidationFailed.field("impressions", f"line {row.line}: must not be negative")
    # Campaigns to create (one per channel and name).
    created_campaigns: dict[tuple[Any, str], Campaign] = {}
    for row in rows:
        if row.campaign is None and row.new_campaign:
            ckey = (row.channel.pk, row.new_campaign.strip())
            if ckey not in created_campaigns:
                found = Campaign.objects.for_org(org).filter(channel=row.channel, name=ckey[1]).first()
                created_campaigns[ckey] = found or campaign_create(
                    org=org, actor=actor, channel=row.channel, name=ckey[1]
                )
    resolved: list[tuple[SpendRow, Campaign | None]] = []
    for row in rows:
        camp = row.campaign
        if camp is None and row.new_campaign:
            camp = created_campaigns[(row.channel.pk, row.new_campaign.strip())]
        resolved.append((row, camp))
    seen: dict[tuple[Any, Any, dt.date], int] = {}
    for row, camp in resolved:
        key = ("c", camp.pk, row.date) if camp is not None else ("h", row.channel.pk, row.date)
        if key in seen:
            raise ValidationFailed.field("date", f"line {row.line}: the same day as line {seen[key]}")
        seen[key] = row.line
    if not resolved:
        return SpendImportResult(created=0, updated=0, campaigns_created=0)
    first = min(r.date for r, _ in resolved)
    last = max(r.date for r, _ in resolved)
    camp_ids = {c.pk for _, c in resolved if c is not None}
    chan_ids = {r.channel.pk for r, c in resolved if c is None}
    existing: dict[tuple[Any, Any, dt.date], AdSpend] = {}
    if camp_ids:
        for spend_row in AdSpend.objects.for_org(org).filter(
            campaign_id__in=camp_ids, date__gte=first, date__lte=last
        ):
            existing[("c", spend_row.campaign_id, spend_row.date)] = spend_row
    if chan_ids:
        for spend_row in AdSpend.objects.for_org(org).filter(
            campaign__isnull=True, channel_id__in=chan_ids, date__gte=first, date__lte=last
        ):
            existing[("h", spend_row.channel_id, spend_row.date)] = spend_row
    now = timezone.now()
    to_create: list[AdSpend] = []
    to_update: list[AdSpend] = []
    for row, camp in resolved:
        key = ("c", camp.pk, row.date) if camp is not None else ("h", row.channel.pk, row.date)
        spend = quantize(row.spend, currency)
        obj = existing.get(key)
        if obj is None:
            to_create.append(
                AdSpend(
                    organization=org,
                    date=row.date,
                    channel=row.channel,
                    campaign=camp,
                    branch_id=camp.branch_id if camp is not None else None,
                    spend=spend,
                    currency=currency,
                    impressions=row.impressions,
                    clicks=row.clicks,
                    imported_at=now,
                )
            )
        else:
            obj.spend, obj.currency = spend, currency
            obj.impressions, obj.clicks, obj.imported_at = row.impressions, row.clicks, now
            to_update.append(obj)
    try:
        with transaction.atomic():
            AdSpend.objects.bulk_create(to_create, batch_size=1000)
            AdSpend.objects.bulk_update(
                to_update, ["spend", "currency", "impressions", "clicks", "imported_at"], batch_size=1000
            )
    except IntegrityError as exc:
        raise Conflict("spend for these days was imported at the same time; import the file again") from exc
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="ad_spend_import",
        object_id=f"{first.isoformat()}..{last.isoformat()}",
        fields=["spend", "impressions", "clicks"],
    )
    return SpendImportResult(
        created=len(to_create), updated=len(to_update), campaigns_created=len(created_campaigns)
    )


# --- front-desk pages: branch checklists, administrators, review list -------------------------------


def _lock_branch(org: Organization, branch: Branch) -> Branch:
    if branch.organization_id != org.id:
        raise NotFound("branch not found")
    return Branch.objects.select_for_update().get(organization=org, pk=branch.pk)


def _checklist_items(org: Organization, checklist: CallChecklist) -> list[CallChecklistItem]:
    return list(
        CallChecklistItem.objects.for_org(org)
        .filter(checklist=checklist, is_active=True)
        .order_by("position", "code")
    )


def _renumber(items: list[CallChecklistItem]) -> None:
    changed = []
    for i, item in enumerate(items):
        if item.position != i:
            item.position = i
            changed.append(item)
    if changed:
        CallChecklistItem.objects.bulk_update(changed, ["position"])


@transaction.atomic
def branch_checklist_ensure(*, org: Organization, actor: User | None, branch: Branch) -> CallChecklist:
    """The branch's own call checklist, created on first use as a copy of the organisation's default
    (or of the standard items: greeting, services and prices, a slot offered, booked, contact)."""
    from clinicflow.acquisition.selectors import STANDARD_CHECKLIST

    _lock_branch(org, branch)  # serialises concurrent first uses: one checklist per branch
    own = CallChecklist.objects.for_org(org).filter(branch=branch).order_by("pk").first()
    if own is not None:
        return own
    default = CallChecklist.objects.for_org(org).filter(branch__isnull=True).order_by("pk").first()
    source = (
        [(i.code, i.label) for i in _checklist_items(org, default)]
        if default is not None
        else list(STANDARD_CHECKLIST)
    )
    own = CallChecklist.objects.create(
        organization=org, branch=branch, name=f"{branch.name} call checklist"[:100]
    )
    CallChecklistItem.objects.bulk_create(
        [
            CallChecklistItem(organization=org, checklist=own, code=code, label=label, position=i)
            for i, (code, label) in enumerate(source)
        ]
    )
    audit_record(
        org=org, actor=actor, action=AuditAction.CREATE, object_type="call_checklist", object_id=own.pk
    )
    return own


@transaction.atomic
def checklist_item_add(
    *, org: Organization, actor: User | None, branch: Branch, label: str
) -> CallChecklistItem:
    from django.utils.text import slugify

    label = " ".join(label.split())
    if not label:
        raise ValidationFailed.field("label", "is required")
    if len(label) > 200:
        raise ValidationFailed.field("label", "at most 200 characters")
    checklist = branch_checklist_ensure(org=org, actor=actor, branch=branch)
    taken = set(
        CallChecklistItem.objects.for_org(org).filter(checklist=checklist).values_list("code", flat=True)
    )
    active = _checklist_items(org, checklist)
    if any(i.label.casefold() == label.casefold() for i in active):
        raise Conflict(
            "this item is already on the checklist", fields={"label": ["already on the checklist"]}
        )
    base = slugify(label)[:32].strip("-") or "item"
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    item = CallChecklistItem.objects.create(
        organization=org, checklist=checklist, code=code, label=label, position=len(active)
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="call_checklist",
        object_id=checklist.pk,
        fields=["items"],
    )
    return item


def _branch_item(org: Organization, checklist: CallChecklist, code: str) -> CallChecklistItem:
    item = (
        CallChecklistItem.objects.for_org(org).filter(checklist=checklist, code=code, is_active=True).first()
        if code
        else None
    )
    if item is None:
        raise NotFound("checklist item not found")
    return item


@transaction.atomic
def checklist_item_remove(*, org: Organization, actor: User | None, branch: Branch, code: str) -> None:
    """Take an item off the branch's checklist. It is deactivated, not deleted, so past scores stay."""
    checklist = branch_checklist_ensure(org=org, actor=actor, branch=branch)
    item = _branch_item(org, checklist, code)
    item.is_active = False
    item.save(update_fields=["is_active"])
    _renumber(_checklist_items(org, checklist))
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="call_checklist",
        object_id=checklist.pk,
        fields=["items"],
    )


@transaction.atomic
def checklist_item_move(
    *, org: Organization, actor: User | None, branch: Branch, code: str, direction: str
) -> list[str]:
    """Move an item one place up or down; returns the item codes in their new order."""
    if direction not in ("up", "down"):
        raise ValidationFailed.field("direction", "must be up or down")
    checklist = branch_checklist_ensure(org=org, actor=actor, branch=branch)
    item = _branch_item(org, checklist, code)
    items = _checklist_items(org, checklist)
    i = next(n for n, it in enumerate(items) if it.pk == item.pk)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(items):
        items[i], items[j] = items[j], items[i]
    _renumber(items)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="call_checklist",
        object_id=checklist.pk,
        fields=["items"],
    )
    return [it.code for it in items]


@transaction.atomic
def call_score_checked(
    *, org: Organization, actor: User | None, call: Call, passed: list[str] | set[str]
) -> Decimal | None:
    """Score a call from a form of checkboxes: every active item of the branch's checklist (created for
    the branch on first use) is stored as passed when its code is in ``passed``, else as failed."""
    if call.organization_id != org.id:
        raise NotFound("call not found")
    if call.branch_id is not None:
        branch = Branch.objects.for_org(org).get(pk=call.branch_id)
        checklist = branch_checklist_ensure(org=org, actor=actor, branch=branch)
    else:
        checklist = checklist_for(org=org, branch=None)
    wanted = set(passed)
    codes = [i.code for i in _checklist_items(org, checklist)]
    unknown = wanted - set(codes)
    if unknown:
        raise ValidationFailed.field("items", f"unknown checklist item {sorted(unknown)[0][:40]!r}")
    return call_score(org=org, actor=actor, call=call, results={c: c in wanted for c in codes})


@transaction.atomic
def call_assign_administrator(
    *, org: Organization, actor: User | None, call: Call, administrator: User | None
) -> Call:
    from clinicflow.accounts.roles import PERMISSIONS

    if call.organization_id != org.id:
        raise NotFound("call not found")
    if administrator is not None and (
        administrator.organization_id != org.id
        or not administrator.is_active
        or administrator.role not in PERMISSIONS["calls.handle"]
    ):
        raise ValidationFailed.field("administrator", "unknown administrator")
    call.administrator = administrator
    call.save(update_fields=["administrator"])
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="call",
        object_id=call.pk,
        fields=["administrator"],
    )
    return call


@transaction.atomic
def review_remove(*, org: Organization, actor: User | None, entry: ReviewListEntry) -> None:
    if entry.organization_id != org.id:
        raise NotFound("review entry not found")
    pk = entry.pk
    ReviewListEntry.objects.for_org(org).filter(pk=pk).delete()
    audit_record(org=org, actor=actor, action=AuditAction.DELETE, object_type="review_entry", object_id=pk)


# --- end of front-desk pages -------------------------------------------------------------------
