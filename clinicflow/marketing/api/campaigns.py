"""Campaigns: ``POST /marketing/campaigns``, ``GET /marketing/campaigns/{mcampaign_id}`` (with its
results per variant and holdout) and ``POST /marketing/campaigns/{mcampaign_id}/queue``."""

from decimal import Decimal
from typing import Any

from ninja import Field, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.catalogue import selectors as catalogue
from clinicflow.core.api import ERRORS
from clinicflow.core.selectors import branch_named
from clinicflow.marketing.models import Campaign
from clinicflow.marketing.selectors import audiences as audience_sel
from clinicflow.marketing.selectors import campaigns as selectors
from clinicflow.marketing.selectors import offers as offer_sel
from clinicflow.marketing.selectors.results import campaign_results
from clinicflow.marketing.services import campaigns as services

router = Router(tags=["marketing"])


class VariantIn(Schema):
    headline: str = Field(..., max_length=120)
    text: str = Field(..., max_length=600)
    weight: int = 1


class CampaignIn(Schema):
    name: str = Field(..., max_length=200)
    audience: str
    channel: str = Field(..., description="sms or email")
    variants: list[VariantIn]
    offer: str | None = None
    holdout_percent: int = 10
    cost: Decimal = Decimal(0)
    branch: str | None = Field(None, description="capacity-aware: the branch whose free hours to fill")
    service: str | None = Field(None, description="capacity-aware: the service whose free slots to fill")
    days_ahead: int = Field(0, description="capacity-aware: the next N days (1..30)")
    per_minute: int = 200


class GroupOut(Schema):
    key: str
    recipients: int
    sent: int
    clicked: int
    booked: int
    arrived: int
    revenue: str
    uplift: float | None
    ci_low: float | None
    ci_high: float | None
    needed_per_group: int | None


class CampaignOut(Schema):
    id: str
    name: str
    status: str
    channel: str
    holdout_percent: int
    free_slots: int
    recipients: dict[str, int]
    results: list[GroupOut]


def campaign_out(request: ApiRequest, c: Campaign) -> dict[str, Any]:
    org = request.org
    groups = campaign_results(org=org, campaign=c)
    return {
        "id": str(c.pk),
        "name": c.name,
        "status": c.status,
        "channel": c.channel,
        "holdout_percent": c.holdout_percent,
        "free_slots": c.free_slots,
        "recipients": selectors.recipient_counts(org=org, campaign=c),
        "results": [
            {
                "key": g.key,
                "recipients": g.recipients,
                "sent": g.sent,
                "clicked": g.clicked,
                "booked": g.booked,
                "arrived": g.arrived,
                "revenue": str(g.revenue),
                "uplift": g.uplift.uplift if g.uplift else None,
                "ci_low": g.uplift.low if g.uplift else None,
                "ci_high": g.uplift.high if g.uplift else None,
                "needed_per_group": g.uplift.needed_per_group if g.uplift else None,
            }
            for g in groups
        ],
    }


@router.post("/marketing/campaigns", response={201: CampaignOut, **ERRORS})
@api_perm("marketing.manage")
def campaign_create(request: ApiRequest, payload: CampaignIn) -> Status[dict[str, Any]]:
    """A draft campaign with its variants; 422 naming a bad field."""
    org = request.org
    c = services.campaign_create(
        org=org,
        actor=request.auth,
        name=payload.name,
        audience=audience_sel.audience_get(org=org, audience_id=payload.audience),
        channel=payload.channel,
        variants=[services.VariantIn(v.headline, v.text, v.weight) for v in payload.variants],
        offer=offer_sel.offer_get(org=org, offer_id=payload.offer) if payload.offer else None,
        holdout_percent=payload.holdout_percent,
        cost=payload.cost,
        branch=branch_named(org=org, branch_id=payload.branch),
        service=catalogue.service_get(org=org, service_id=payload.service) if payload.service else None,
        days_ahead=payload.days_ahead,
        per_minute=payload.per_minute,
        request=request,
    )
    return Status(201, campaign_out(request, c))


@router.get("/marketing/campaigns/{mcampaign_id}", response={200: CampaignOut, **ERRORS})
@api_perm("marketing.view")
def campaign_detail(request: ApiRequest, mcampaign_id: str) -> dict[str, Any]:
    """The campaign, its recipients by status and its results per variant and holdout."""
    return campaign_out(request, selectors.campaign_get(org=request.org, campaign_id=mcampaign_id))


@router.post("/marketing/campaigns/{mcampaign_id}/queue", response={200: CampaignOut, **ERRORS})
@api_perm("marketing.manage")
def campaign_queue(request: ApiRequest, mcampaign_id: str) -> dict[str, Any]:
    """Resolve the audience into recipients (variant or holdout); the worker sends them in batches."""
    c = selectors.campaign_get(org=request.org, campaign_id=mcampaign_id)
    services.campaign_queue(org=request.org, actor=request.auth, campaign=c, request=request)
    return campaign_out(request, selectors.campaign_get(org=request.org, campaign_id=mcampaign_id))
