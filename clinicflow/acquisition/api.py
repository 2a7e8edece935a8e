"""Calls API: ``GET /api/v1/calls`` (with attribution, matched patient, provider id, raw payload)."""

import datetime as dt
from typing import Any

from ninja import Query, Router
from ninja.errors import HttpError

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.acquisition.frontdesk import selectors
from clinicflow.acquisition.models import Call, CallTag
from clinicflow.acquisition.schemas import CallFilters, CallPageOut
from clinicflow.core.api import ERRORS
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditAction
from clinicflow.core.selectors import branch_named

router = Router(tags=["acquisition"])
MAX_LIMIT = 200


def call_out(call: Call) -> dict[str, Any]:
    return {
        "id": str(call.pk),
        "provider": call.provider,
        "provider_call_id": call.provider_call_id,
        "branch_id": str(call.branch_id) if call.branch_id else None,
        "tracking_number": call.called_number,
        "caller": call.caller_e164 or call.caller_raw,
        "started_at": call.started_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "duration": call.duration,
        "status": call.status,
        "is_unique": call.is_unique,
        "recording_url": call.recording_url,
        "administrator_id": str(call.administrator_id) if call.administrator_id else None,
        "patient": {"id": str(call.patient.pk), "name": call.patient.full_name} if call.patient else None,
        "attribution": {
            "method": call.attribution_method,
            "channel": call.channel.code if call.channel else None,
            "campaign": call.campaign.name if call.campaign else None,
            "campaign_id": str(call.campaign_id) if call.campaign_id else None,
            "source": call.source,
            "medium": call.medium,
            "utm_campaign": call.utm_campaign,
            "session_id": str(call.session_id) if call.session_id else None,
        },
        "tags": [t.tag for t in call.taggings.all()],
        "score": str(call.score) if call.score is not None else None,
        "payload": call.payload,
    }


@router.get("/calls", response={200: CallPageOut, **ERRORS})
@api_perm("calls.view")
def call_list(request: ApiRequest, filters: Query[CallFilters]) -> dict[str, Any]:
    """Calls, newest first. Filters: `from`/`to` (dates, inclusive, UTC), `branch` (id), `phone` (any
    format), `tag`."""
    org = request.org
    if not 1 <= filters.limit <= MAX_LIMIT:
        raise HttpError(400, f"limit must be between 1 and {MAX_LIMIT}")
    if filters.offset < 0:
        raise HttpError(400, "offset must not be negative")
    date_from = filters.from_
    branch = branch_named(org=org, branch_id=filters.branch)
    if filters.tag and filters.tag not in CallTag.values:
        raise ValidationFailed.field("tag", f"must be one of {', '.join(CallTag.values)}")
    f = selectors.CallFilter(
        start=dt.datetime.combine(date_from, dt.time.min, tzinfo=dt.UTC) if date_from else None,
        end=dt.datetime.combine(filters.to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        if filters.to
        else None,
        branch=branch,
        phone=(filters.phone or "")[:40],
        tag=filters.tag or "",
    )
    qs = selectors.call_list(org=org, f=f)
    items = list(qs[filters.offset : filters.offset + filters.limit])
    audit_record(org=org, actor=request.auth, action=AuditAction.LIST, object_type="call", request=request)
    return {
        "count": qs.count(),
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [call_out(c) for c in items],
    }
