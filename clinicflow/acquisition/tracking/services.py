"""Writes of numbers and website tracking: tracking numbers, the script's settings, page views that
hold a dynamic number for the visit, web-form leads. Keyword-only, atomic, organisation first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from clinicflow.acquisition.attribution import DIRECT, Visit, classify_visit
from clinicflow.acquisition.defaults import channel_for_code, tracking_settings
from clinicflow.acquisition.ingestion import clear_caches
from clinicflow.acquisition.marketing.selectors import campaign_by_utm
from clinicflow.acquisition.models import (
    Campaign,
    Channel,
    Lead,
    LeadMatch,
    NumberLease,
    NumberPool,
    TrackingNumber,
    TrackingSettings,
    WebSession,
)
from clinicflow.acquisition.tracking import lease_limits
from clinicflow.acquisition.tracking.lead_matches import possible_patient
from clinicflow.core.audit import audit_record, audited_save
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.phones import InvalidPhone, normalize, try_normalize

if TYPE_CHECKING:
    from clinicflow.accounts.models import User

SESSION_TIMEOUT = dt.timedelta(minutes=30)
SETTINGS_FIELDS = ("hold_minutes", "allowed_origins", "gross_margin", "callback_minutes", "default_branch")


# --- tracking numbers and settings -------------------------------------------------------------------------


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
    audited_save(row, org=org, actor=actor, fields=SETTINGS_FIELDS, object_type="tracking_settings")
    clear_caches()
    return row


def _number_checked(
    org: Organization, pool: str, related: dict[str, Branch | Campaign | Channel | None]
) -> None:
    if pool not in NumberPool.values:
        raise ValidationFailed.field("pool", f"must be one of {', '.join(NumberPool.values)}")
    for name, obj in related.items():
        if obj is not None and obj.organization_id != org.id:
            raise ValidationFailed.field(name, f"unknown {name}")
    if pool == NumberPool.STATIC and related["campaign"] is None and related["channel"] is None:
        raise ValidationFailed.field("campaign", "a static number needs a campaign or a channel")


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
    _number_checked(org, pool, {"branch": branch, "campaign": campaign, "channel": channel})
    if TrackingNumber.objects.for_org(org).filter(e164=e164).exists():
        raise Conflict(f"{e164} is already a tracking number", fields={"number": ["already exists"]})
    static = pool == NumberPool.STATIC
    row = TrackingNumber(
        organization=org,
        e164=e164,
        pool=pool,
        branch=branch,
        campaign=campaign if static else None,
        channel=(channel or (campaign.channel if campaign else None)) if static else None,
    )
    row.save(force_insert=True)
    audit_record(
        org=org, actor=actor, action=AuditAction.CREATE, object_type="tracking_number", object_id=row.pk
    )
    return row


@transaction.atomic
def tracking_number_set_active(
    *, org: Organization, actor: User | None, number: TrackingNumber, active: bool
) -> TrackingNumber:
    number.is_active = active
    audited_save(number, org=org, actor=actor, fields=["is_active"], object_type="tracking_number")
    clear_caches()
    return number


# --- web sessions and their numbers ------------------------------------------------------------------------


def _extend_lease(org: Organization, session: WebSession, now: dt.datetime, hold: dt.timedelta) -> None:
    """Keep the number the session holds a while longer."""
    session.held_until = now + hold
    lease = (
        NumberLease.objects.for_org(org)
        .filter(session=session, number_id=session.number_id)
        .order_by("-leased_at")
        .first()
    )
    if lease is not None:
        NumberLease.objects.filter(pk=lease.pk).update(held_until=session.held_until)


def _free_numbers(org: Organization, branch: Branch | None, now: dt.datetime) -> list[Any]:
    """Ids of the active dynamic numbers (the branch's or shared) no session holds now, less the share
    of the pool that new leases must leave free (``lease_limits.pool_reserve``)."""
    busy = (
        WebSession.objects.for_org(org).filter(number__isnull=False, held_until__gte=now).values("number_id")
    )
    pool = TrackingNumber.objects.for_org(org).filter(pool=NumberPool.DYNAMIC, is_active=True)
    if branch is not None:
        pool = pool.filter(Q(branch=branch) | Q(branch__isnull=True))
    free = list(pool.exclude(pk__in=busy).values_list("pk", flat=True)[:200])
    reserve = lease_limits.pool_reserve(pool.count()) if free else 0
    return free if len(free) > reserve else []


def _pick_number(org: Organization, session: WebSession, ids: list[Any]) -> TrackingNumber | None:
    """Lock one of the free numbers: the one this visitor had before, else the one rested longest."""
    candidates = TrackingNumber.objects.select_for_update(skip_locked=True).filter(pk__in=ids)
    previous = session.number_id
    if previous is not None and previous in ids:
        chosen: TrackingNumber | None = candidates.filter(pk=previous).first()
        if chosen is not None:
            return chosen
    last_used = {
        row["number_id"]: row["last"]
        for row in NumberLease.objects.for_org(org)
        .filter(number_id__in=ids)
        .values("number_id")
        .annotate(last=Max("held_until"))
    }
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    for pk in sorted(ids, key=lambda p: (last_used.get(p) or never, str(p))):
        chosen = candidates.filter(pk=pk).first()
        if chosen is not None:
            return chosen
    return None


def _lease_number(
    *, org: Organization, session: WebSession, now: dt.datetime, hold: dt.timedelta, client_ip: str
) -> None:
    """Give the session a free dynamic number (or keep and extend the one it holds); none when the
    client address has taken its share or only the pool's reserve is free."""
    if session.number_id and session.held_until and session.held_until >= now:
        _extend_lease(org, session, now, hold)
        return
    allowed = lease_limits.ip_may_lease(org=org, client_ip=client_ip, now=now, hold=hold)
    ids = _free_numbers(org, session.branch, now) if allowed else []
    if not ids:
        session.number = None
        session.held_until = None
        return
    chosen = _pick_number(org, session, ids)
    if chosen is None:
        return
    session.number = chosen
    session.held_until = now + hold
    NumberLease.objects.create(
        organization=org, number=chosen, session=session, leased_at=now, held_until=session.held_until
    )
    lease_limits.ip_leased(org=org, client_ip=client_ip, now=now, hold=hold)


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

    def is_new_click(self, session: WebSession) -> bool:
        """An ad click of another campaign or source than the session's: it starts a new session."""
        has_source = bool(self.utm_source or self.utm_medium or self.gclid or self.yclid)
        names_campaign = bool(self.utm_campaign or self.gclid or self.yclid)
        other = self.utm_campaign != session.utm_campaign or self.utm_source != session.utm_source
        return has_source and names_campaign and other


def _site_host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _new_session(
    org: Organization, data: SessionInput, branch: Branch | None, now: dt.datetime
) -> WebSession:
    """A visit's first page view: classify its source and remember the visitor's last number and card."""
    found = classify_visit(
        Visit(
            utm_source=data.utm_source,
            utm_medium=data.utm_medium,
            utm_campaign=data.utm_campaign,
            referrer=data.referrer,
            gclid=data.gclid,
            yclid=data.yclid,
            site_host=_site_host(data.url),
        )
    )
    campaign = campaign_by_utm(org=org, utm_campaign=data.utm_campaign)
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
    return session


@transaction.atomic
def session_touch(
    *, org: Organization, data: SessionInput, now: dt.datetime | None = None, client_ip: str = ""
) -> WebSession:
    """Record a page view: continue the visitor's session (or start one) and hold a dynamic number
    (``client_ip``, the visitor's address, limits how many numbers one client takes)."""
    now = now or timezone.now()
    cfg = tracking_settings(org=org)
    branch = (
        Branch.objects.for_org(org).filter(slug=data.branch[:60]).first() if data.branch else None
    ) or cfg.default_branch
    session = (
        WebSession.objects.select_for_update()
        .filter(organization=org, client_id=data.client_id, last_seen_at__gte=now - SESSION_TIMEOUT)
        .order_by("-last_seen_at")
        .first()
    )
    if session is None or data.is_new_click(session):
        session = _new_session(org, data, branch, now)
    session.last_seen_at = now
    hold = dt.timedelta(minutes=cfg.hold_minutes)
    _lease_number(org=org, session=session, now=now, hold=hold, client_ip=client_ip)
    session.save(update_fields=["last_seen_at", "number", "held_until"])
    return session


# --- leads ---------------------------------------------------------------------------------------------


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
    """A web-form lead. The phone is normalised to E.164. Anyone can type any phone or e-mail into a
    website form, so the lead is never attached to a patient card (nor its session): when its contact
    matches a patient it is flagged as a possible match, which the front desk confirms or dismisses
    after speaking to the person (``lead_matches``)."""
    branch = branch or (session.branch if session else None)
    phone = phone.strip()
    e164 = try_normalize(phone, branch.country if branch is not None else org.country) if phone else None
    if phone and e164 is None:
        raise ValidationFailed.field("phone", f"{phone[:40]!r} is not a valid phone number")
    if not e164 and not email.strip():
        raise ValidationFailed.field("phone", "a phone number or an e-mail is required")
    candidate = possible_patient(org=org, phone=e164 or "", email=email)
    lead = Lead(
        organization=org,
        session=session,
        branch=branch,
        name=name.strip()[:200],
        phone=e164 or "",
        phone_raw=phone[:40],
        email=email.strip()[:254],
        message=message.strip()[:5000],
        page_url=page_url[:500],
        patient=None,
        possible_patient=candidate,
        match=LeadMatch.POSSIBLE if candidate is not None else LeadMatch.NONE,
        channel_id=session.channel_id if session else channel_for_code(org=org, code=DIRECT).pk,
        campaign_id=session.campaign_id if session else None,
        source=session.source if session else "(direct)",
        medium=session.medium if session else "(none)",
        created_at=now or timezone.now(),
    )
    lead.save(force_insert=True)
    return lead
