"""Attribution of a call (the rule is stated in ``rules``): the web session that held a dynamic number,
else ``fallback`` — a static number's campaign or channel, a source the provider reported, or direct /
unknown. The PostgreSQL statement looks the session up itself and takes ``fallback`` as parameters."""

from __future__ import annotations

from typing import Any

from clinicflow.acquisition.attribution import Visit, classify_visit
from clinicflow.acquisition.ingestion import lookups, rules
from clinicflow.acquisition.ingestion.event import Incoming
from clinicflow.acquisition.ingestion.terms import as_q
from clinicflow.acquisition.models import AttributionMethod, NumberLease, NumberPool, TrackingNumber


def static(number: TrackingNumber | None) -> dict[str, Any] | None:
    """A static number (printed on an offline ad) attributes the call to its campaign or channel."""
    if number is None or number.pool != NumberPool.STATIC or not (number.campaign_id or number.channel_id):
        return None
    campaign = number.campaign
    return {
        "attribution_method": AttributionMethod.STATIC,
        "channel_id": number.channel_id or (campaign.channel_id if campaign else None),
        "campaign_id": number.campaign_id,
        "source": campaign.utm_source if campaign else "",
        "medium": campaign.utm_medium if campaign else "",
        "utm_campaign": campaign.utm_campaign if campaign else "",
    }


def fallback(item: Incoming) -> dict[str, Any]:
    """The attribution when no web session held the number."""
    found = static(item.number)
    if found is not None:
        return found
    event = item.event
    if event.utm_source or event.utm_medium or event.source:
        visit = classify_visit(
            Visit(utm_source=event.utm_source or event.source, utm_medium=event.utm_medium or event.medium)
        )
        campaign = lookups.campaign_ids(item.org, event.utm_campaign) if event.utm_campaign else None
        return {
            "attribution_method": AttributionMethod.PROVIDER,
            "channel_id": campaign[1] if campaign else lookups.channel_id_for(item.org, visit.channel),
            "campaign_id": campaign[0] if campaign else None,
            "source": visit.source,
            "medium": visit.medium,
            "utm_campaign": event.utm_campaign,
        }
    return {
        "attribution_method": AttributionMethod.NONE,
        "channel_id": lookups.direct_channel_id(item.org),
        "campaign_id": None,
        "source": "(direct)",
        "medium": "(none)",
        "utm_campaign": "",
    }


def leased_to(item: Incoming) -> dict[str, Any] | None:
    """The session attribution of a dynamic number's lease held when the call started."""
    number = item.number
    if number is None or number.pool != NumberPool.DYNAMIC:
        return None
    lease = (
        NumberLease.objects.for_org(item.org)
        .filter(as_q(rules.LEASE_HELD_AT, item.window_values()), number=number)
        .select_related("session")
        .order_by(*(f"-{column}" for column in rules.LEASE_LATEST))
        .first()
    )
    if lease is None:
        return None
    session = lease.session
    return {
        "attribution_method": AttributionMethod.SESSION,
        "session_id": session.pk,
        **{name: getattr(session, name) for name in rules.SESSION_ATTRIBUTES},
    }


def for_call(item: Incoming) -> dict[str, Any]:
    return leased_to(item) or fallback(item)
