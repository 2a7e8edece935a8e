"""The marketing app's periodic jobs (``MarketingConfig.periodic``): bounded, idempotent, one-line summary."""

from __future__ import annotations

from clinicflow.marketing.selectors.jobs import campaigns_sending
from clinicflow.marketing.services.campaigns import campaign_send_batch


def campaigns_send() -> str:
    """One batch of every sending campaign to the outbox (each at most its rate per minute)."""
    campaigns = queued = 0
    for org, campaign in campaigns_sending():
        campaigns += 1
        queued += campaign_send_batch(org=org, campaign=campaign)
    return f"campaigns={campaigns} messages={queued}"
