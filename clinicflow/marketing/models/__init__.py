"""The marketing app's models, one module per part."""

from clinicflow.marketing.models.audiences import Audience
from clinicflow.marketing.models.calendar import CalendarEvent
from clinicflow.marketing.models.campaigns import (
    HOLDOUT,
    Campaign,
    CampaignChannel,
    CampaignStatus,
    MarketingSettings,
    Recipient,
    RecipientStatus,
    Variant,
)
from clinicflow.marketing.models.documents import ProductDocumentPart, ProductDocumentVersion
from clinicflow.marketing.models.offers import Coupon, Offer, OfferKind, PatientKind, Redemption

__all__ = [
    "HOLDOUT",
    "Audience",
    "CalendarEvent",
    "Campaign",
    "CampaignChannel",
    "CampaignStatus",
    "Coupon",
    "MarketingSettings",
    "Offer",
    "OfferKind",
    "PatientKind",
    "ProductDocumentPart",
    "ProductDocumentVersion",
    "Recipient",
    "RecipientStatus",
    "Redemption",
    "Variant",
]
