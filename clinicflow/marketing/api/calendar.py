"""The marketing calendar: ``GET /marketing/calendar`` (a year or a month), ``POST /marketing/calendar``,
``POST /marketing/calendar/usual-dates`` and ``GET /marketing/calendar.ics``."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.core.api import ERRORS
from clinicflow.core.errors import ValidationFailed
from clinicflow.marketing.models.calendar import CalendarEvent
from clinicflow.marketing.selectors import calendar as selectors
from clinicflow.marketing.services import calendar as services

router = Router(tags=["marketing"])


class PeriodParams(Schema):
    year: int = Field(..., ge=2000, le=2100)
    month: int | None = Field(None, ge=1, le=12, description="a month view; the whole year when omitted")


class EventIn(Schema):
    title: str = Field(..., max_length=200)
    kind: str
    starts_on: dt.date
    ends_on: dt.date
    budget: Decimal = Decimal(0)
    channel: str = ""
    owner: str = ""
    status: str = "planned"


class EventOut(Schema):
    id: str
    title: str
    kind: str
    starts_on: dt.date
    ends_on: dt.date
    budget: str
    currency: str
    channel: str
    status: str


class UsualIn(Schema):
    region: str = Field(..., description="RU, CN or EU")
    year: int


def event_out(e: CalendarEvent) -> dict[str, Any]:
    return {
        "id": str(e.pk), "title": e.title, "kind": e.kind, "starts_on": e.starts_on, "ends_on": e.ends_on,
        "budget": str(e.budget), "currency": e.currency, "channel": e.channel, "status": e.status,
    }  # fmt: skip


def _period(p: PeriodParams) -> tuple[dt.date, dt.date]:
    if p.month is None:
        return dt.date(p.year, 1, 1), dt.date(p.year, 12, 31)
    start = dt.date(p.year, p.month, 1)
    return start, (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)


@router.get("/marketing/calendar", response={200: list[EventOut], **ERRORS})
@api_perm("marketing.view")
def calendar(request: ApiRequest, params: Query[PeriodParams]) -> list[dict[str, Any]]:
    start, end = _period(params)
    return [event_out(e) for e in selectors.events_between(org=request.org, start=start, end=end)]


@router.post("/marketing/calendar", response={201: EventOut, **ERRORS})
@api_perm("marketing.manage")
def event_add(request: ApiRequest, payload: EventIn) -> Status[dict[str, Any]]:
    """Add an event; 422 naming the field (an end before the start, ...)."""
    e = services.event_add(org=request.org, actor=request.auth, **payload.model_dump())
    return Status(201, event_out(e))


@router.post("/marketing/calendar/usual-dates", response={200: dict[str, int], **ERRORS})
@api_perm("marketing.manage")
def usual_dates(request: ApiRequest, payload: UsualIn) -> dict[str, int]:
    """Start the year from the ready calendar of a region."""
    if payload.region not in services.usual_dates():
        raise ValidationFailed.field("region", "must be RU, CN or EU")
    added = services.year_from_usual_dates(
        org=request.org, actor=request.auth, region=payload.region, year=payload.year
    )
    return {"added": added}


@router.get("/marketing/calendar.ics", response={200: None, **ERRORS})
@api_perm("marketing.view")
def calendar_ics(request: ApiRequest, params: Query[PeriodParams]) -> HttpResponse:
    start, end = _period(params)
    events = selectors.events_between(org=request.org, start=start, end=end)
    response = HttpResponse(
        services.calendar_ics(org=request.org, events=events), content_type="text/calendar"
    )
    response["Content-Disposition"] = 'attachment; filename="marketing-calendar.ics"'
    return response
