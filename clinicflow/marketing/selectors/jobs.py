"""Reads of the marketing jobs: the work across every organisation."""

from __future__ import annotations

from clinicflow.core.models import Organization
from clinicflow.marketing.models import Campaign, CampaignStatus


def campaigns_sending(limit: int = 200) -> list[tuple[Organization, Campaign]]:
    """Campaigns being sent, oldest first, each with its organisation."""
    rows = Campaign.objects.filter(status=CampaignStatus.SENDING).select_related("organization")
    return [(c.organization, c) for c in rows.order_by("queued_at")[:limit]]
