"""API schemas of calls."""

import datetime as dt
from typing import Any

from ninja import Schema
from pydantic import Field


class AttributionOut(Schema):
    method: str
    channel: str | None
    campaign: str | None
    campaign_id: str | None
    source: str
    medium: str
    utm_campaign: str
    session_id: str | None


class PatientRef(Schema):
    id: str
    name: str


class CallOut(Schema):
    id: str
    provider: str
    provider_call_id: str
    branch_id: str | None
    tracking_number: str
    caller: str
    started_at: dt.datetime
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    duration: int | None
    status: str
    is_unique: bool
    recording_url: str
    administrator_id: str | None
    patient: PatientRef | None
    attribution: AttributionOut
    tags: list[str]
    score: str | None
    payload: dict[str, Any]


class CallPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[CallOut]


class CallFilters(Schema):
    from_: dt.date | None = Field(None, alias="from")
    to: dt.date | None = None
    branch: str | None = None
    phone: str | None = None
    tag: str | None = None
    limit: int = 50
    offset: int = 0
