"""Periodic jobs of the ledger (run by ``clinicflow worker``; see ``LedgerConfig.periodic``)."""

from __future__ import annotations

from django.utils import timezone

from clinicflow.core.models import Organization
from clinicflow.ledger.services.idempotency import idempotency_purge as _purge
from clinicflow.ledger.services.lots import expire_due


def idempotency_purge() -> str:
    """Delete idempotency keys older than 24 h (a bounded batch a run)."""
    return f"{_purge()} idempotency keys purged"


def expire_lots() -> str:
    """Expire what is left of bonus and points lots past their expiry (bounded per organisation), all
    organisations as of the same moment."""
    at, count = timezone.now(), 0
    for org in Organization.objects.order_by("pk"):
        count += len(expire_due(org=org, at=at))
    return f"{count} expiry transactions"


def memberships_earn() -> str:
    """Earn the membership fees due so far, straight-line (bounded per organisation)."""
    from clinicflow.ledger.services.memberships import memberships_earn_due

    count = 0
    for org in Organization.objects.order_by("pk"):
        count += memberships_earn_due(org=org)
    return f"{count} membership fees earned"
