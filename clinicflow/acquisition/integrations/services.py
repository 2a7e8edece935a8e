"""Writes of telephony integrations. Keyword-only, atomic, organisation first. (Dead letters are
written by ``acquisition.ingestion.dead_letters``.)"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.db import transaction

from clinicflow.acquisition.ingestion.senders import bump_generation, clear_cache
from clinicflow.acquisition.models import Integration, Provider, hash_secret
from clinicflow.core.audit import audit_record, audited_save
from clinicflow.core.errors import NotFound, ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization

if TYPE_CHECKING:
    from clinicflow.accounts.models import User


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
        name=name.strip()[:100] or str(Provider(provider).label),
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
    """Enable or disable an integration (audited). A disabled one's webhook URL answers 404 from the
    commit on, in every worker process (``ingestion.senders``: the shared integration generation)."""
    if integration.organization_id != org.id:
        raise NotFound("integration not found")
    integration.is_active = active
    audited_save(integration, org=org, actor=actor, fields=["is_active"], object_type="integration")
    clear_cache()  # the next delivery in this process already sees the change ...
    # ... and once committed, a new shared generation makes every other process look it up again
    transaction.on_commit(bump_generation)
    return integration
