"""Reads of numbers and website tracking. Every function takes the organisation, except the script's
key lookup (the public key is what names the organisation)."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from clinicflow.acquisition.defaults import tracking_settings
from clinicflow.acquisition.models import Lead, TrackingNumber, TrackingSettings, WebSession
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import parse_uuid


def tracking_numbers(*, org: Organization) -> QuerySet[TrackingNumber]:
    qs: QuerySet[TrackingNumber] = (
        TrackingNumber.objects.for_org(org).select_related("branch", "campaign", "channel").order_by("e164")
    )
    return qs


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


def settings_for_key(*, key: str) -> TrackingSettings | None:
    """The tracking settings (with their organisation) behind a website script's public key."""
    row: TrackingSettings | None = (
        TrackingSettings.objects.select_related("organization", "default_branch")
        .filter(public_key=key)
        .first()
    )
    return row


def web_session_for_lead(*, org: Organization, session_id: str, client_id: str) -> WebSession | None:
    """The visit a lead form names (its id and the visitor's id must both match), else ``None``."""
    pk = parse_uuid(session_id)
    if pk is None:
        return None
    row: WebSession | None = WebSession.objects.for_org(org).filter(pk=pk, client_id=client_id).first()
    return row


def org_timezone(*, org: Organization) -> str:
    """The zone the organisation-wide pages show times in: the default branch's, else the first
    branch's (by name), else UTC."""
    cfg = tracking_settings(org=org)
    if cfg.default_branch is not None:
        return cfg.default_branch.timezone
    first = Branch.objects.for_org(org).order_by("name").values_list("timezone", flat=True).first()
    return str(first or "UTC")


def script_branch_slug(*, org: Organization) -> str:
    """The branch slug the script tag example names: the default branch's, else the first branch's."""
    cfg = tracking_settings(org=org)
    if cfg.default_branch is not None:
        return cfg.default_branch.slug
    first = Branch.objects.for_org(org).order_by("name").values_list("slug", flat=True).first()
    return str(first or "BRANCH")


def lead_list(*, org: Organization, match: str = "") -> QuerySet[Lead]:
    """The organisation's web leads, newest first (only those with the ``match`` state when given),
    with the candidate patient, the linked patient and the source."""
    qs: QuerySet[Lead] = (
        Lead.objects.for_org(org)
        .select_related("possible_patient", "patient", "matched_by", "channel", "campaign", "branch")
        .order_by("-created_at", "-id")
    )
    return qs.filter(match=match) if match else qs


def lead_get(*, org: Organization, lead_id: object) -> Lead:
    pk = parse_uuid(lead_id)
    row = lead_list(org=org).filter(pk=pk).first() if pk else None
    if row is None:
        raise NotFound("lead not found")
    return row
