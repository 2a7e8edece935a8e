"""Acquisition and call tracking: channels, campaigns, ad spend, tracking numbers, web sessions,
leads, telephony integrations, calls and the front desk's work on them.

One module per area; this package re-exports every model so ``clinicflow.acquisition.models`` stays
the one place Django (and the rest of the code) imports them from. Field names are a contract with
the clinic simulator (it writes these tables in bulk): keep them.
"""

from clinicflow.acquisition.models.calls import (
    STATUS_RANK,
    AttributionMethod,
    Call,
    CallStatus,
    CallTag,
    CallTagging,
)
from clinicflow.acquisition.models.frontdesk import (
    CallbackTask,
    CallChecklist,
    CallChecklistItem,
    CallScore,
    ReviewListEntry,
    ReviewVerdict,
)
from clinicflow.acquisition.models.integrations import (
    Integration,
    Provider,
    WebhookEvent,
    WebhookStatus,
    hash_secret,
)
from clinicflow.acquisition.models.marketing import AdSpend, Campaign, Channel, ChannelCode, ChannelKind
from clinicflow.acquisition.models.tracking import (
    Lead,
    LeadMatch,
    NumberLease,
    NumberPool,
    TrackingNumber,
    TrackingSettings,
    WebSession,
    new_public_key,
)

__all__ = [
    "STATUS_RANK",
    "AdSpend",
    "AttributionMethod",
    "Call",
    "CallChecklist",
    "CallChecklistItem",
    "CallScore",
    "CallStatus",
    "CallTag",
    "CallTagging",
    "CallbackTask",
    "Campaign",
    "Channel",
    "ChannelCode",
    "ChannelKind",
    "Integration",
    "Lead",
    "LeadMatch",
    "NumberLease",
    "NumberPool",
    "Provider",
    "ReviewListEntry",
    "ReviewVerdict",
    "TrackingNumber",
    "TrackingSettings",
    "WebSession",
    "WebhookEvent",
    "WebhookStatus",
    "hash_secret",
    "new_public_key",
]
