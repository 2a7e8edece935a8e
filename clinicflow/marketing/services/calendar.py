"""The marketing calendar: add events, start a year from the usual dates of a region, export iCalendar."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import icalendar
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from clinicflow.catalogue.models import ProductLine
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed, require_choice
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.marketing.models import Audience, Offer
from clinicflow.marketing.models.calendar import CalendarEvent, EventKind, EventStatus

DATES = Path(__file__).resolve().parents[1] / "data" / "usual_dates.json"


@lru_cache(maxsize=1)
def usual_dates() -> dict[str, list[tuple[int, int, str]]]:
    """The ready calendar: region (RU, CN, EU) -> (month, day, title)."""
    raw = json.loads(DATES.read_text(encoding="utf-8"))
    return {region: [(int(m), int(d), str(t)) for m, d, t in rows] for region, rows in raw.items()}


@transaction.atomic
def event_add(
    *,
    org: Organization,
    actor: AbstractBaseUser | None,
    title: str,
    kind: str,
    starts_on: dt.date,
    ends_on: dt.date,
    budget: Decimal = Decimal(0),
    channel: str = "",
    owner: str = "",
    status: str = EventStatus.PLANNED,
    branch: Branch | None = None,
    line: ProductLine | None = None,
    audience: Audience | None = None,
    offer: Offer | None = None,
    actual_cost: Decimal = Decimal(0),
) -> CalendarEvent:
    if not title.strip() or len(title) > 200:
        raise ValidationFailed.field("title", "is required, at most 200 characters")
    require_choice("kind", kind, EventKind.values)
    require_choice("status", status, EventStatus.values)
    if ends_on < starts_on:
        raise ValidationFailed.field("ends_on", "must not be before starts_on")
    if budget < 0:
        raise ValidationFailed.field("budget", "must not be negative")
    if actual_cost < 0:
        raise ValidationFailed.field("actual_cost", "must not be negative")
    for name, obj in (("branch", branch), ("line", line), ("audience", audience), ("offer", offer)):
        if obj is not None and obj.organization_id != org.pk:
            raise ValidationFailed.field(name, f"unknown {name}")
    event = CalendarEvent.objects.create(
        organization=org, title=title.strip(), kind=kind, starts_on=starts_on, ends_on=ends_on, budget=budget,
        currency=org.currency, channel=channel[:40], owner=owner[:200], status=status, branch=branch,
        line=line, audience=audience, offer=offer, actual_cost=actual_cost,
    )  # fmt: skip
    audit_record(
        org=org, actor=actor, action=AuditAction.CREATE, object_type="calendar_event", object_id=event.pk
    )
    return event


@transaction.atomic
def year_from_usual_dates(
    *, org: Organization, actor: AbstractBaseUser | None, region: str, year: int
) -> int:
    """Add the region's usual dates for the year as planned holiday events (skipping those already there)."""
    dates = usual_dates()
    require_choice("region", region, sorted(dates))
    if not 2000 <= year <= 2100:
        raise ValidationFailed.field("year", "must be 2000..2100")
    have = set(
        CalendarEvent.objects.for_org(org)
        .filter(starts_on__year=year, kind=EventKind.HOLIDAY)
        .values_list("title", "starts_on")
    )
    added = 0
    for month, day, title in dates[region]:
        when = dt.date(year, month, day)
        if (title, when) not in have:
            event_add(org=org, actor=actor, title=title, kind=EventKind.HOLIDAY, starts_on=when, ends_on=when)
            added += 1
    return added


def calendar_ics(*, org: Organization, events: list[CalendarEvent]) -> bytes:
    """The events as an iCalendar file (all-day events; the end date is exclusive in iCalendar)."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Clinicflow//Marketing calendar//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{org.name}: marketing")
    for e in events:
        item = icalendar.Event()
        item.add("uid", f"{e.pk}@clinicflow")
        item.add("summary", e.title)
        item.add("dtstart", e.starts_on)
        item.add("dtend", e.ends_on + dt.timedelta(days=1))
        item.add("status", "CANCELLED" if e.status == EventStatus.CANCELLED else "CONFIRMED")
        if e.channel:
            item.add("categories", [e.channel])
        cal.add_component(item)
    return bytes(cal.to_ical())
