"""One incoming call event, prepared once for either way of storing it, and the result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clinicflow.acquisition.ingestion import lookups, rules
from clinicflow.acquisition.models import Call, Integration, TrackingNumber
from clinicflow.acquisition.providers import CallEvent
from clinicflow.core.models import Organization
from clinicflow.core.phones import try_normalize


@dataclass
class IngestResult:
    call: Call
    created: bool
    changed: bool


@dataclass(frozen=True)
class Incoming:
    """The event with its numbers normalised in the branch's (or organisation's) country, the tracking
    number it called and the values of the merge fields."""

    org: Organization
    integration: Integration | None
    provider: str
    event: CallEvent
    payload: Mapping[str, Any]
    rank: int
    caller_e164: str
    caller_raw: str
    called: str
    number: TrackingNumber | None
    branch_id: Any
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> dict[str, Any]:
        return {
            "organization": self.org,
            "provider": self.provider,
            "provider_call_id": self.event.provider_call_id,
        }

    def window_values(self) -> dict[str, Any]:
        return rules.window_values(
            caller_e164=self.caller_e164, caller_raw=self.caller_raw, started_at=self.event.started_at
        )


def incoming(
    *,
    org: Organization,
    integration: Integration | None,
    provider: str,
    event: CallEvent,
    payload: Mapping[str, Any],
) -> Incoming:
    branch = integration.branch if integration is not None and integration.branch_id else None
    region = (branch.country if branch is not None else "") or org.country
    caller_e164 = try_normalize(event.caller, region) or ""
    called_e164 = try_normalize(event.called, region) or ""
    number = lookups.number_for(org, called_e164)
    branch_id = (number.branch_id if number else None) or (integration.branch_id if integration else None)
    values = {
        "answered_at": event.answered_at,
        "ended_at": event.ended_at,
        "duration": event.duration,
        "recording_url": event.recording_url,
        "administrator_id": lookups.administrator_id(org, event.administrator_email),
    }
    return Incoming(
        org=org,
        integration=integration,
        provider=provider,
        event=event,
        payload=payload,
        rank=rules.status_rank(event.status),
        caller_e164=caller_e164,
        caller_raw=event.caller[:40],
        called=called_e164 or event.called[:40],
        number=number,
        branch_id=branch_id,
        values=values,
    )
