"""Reads of the marketing calendar."""

from __future__ import annotations

import datetime as dt

from clinicflow.core.models import Organization
from clinicflow.marketing.models.calendar import CalendarEvent


def events_between(*, org: Organization, start: dt.date, end: dt.date) -> list[CalendarEvent]:
    """Events overlapping [start, end] (a year view or a month view)."""
    qs = CalendarEvent.objects.for_org(org).filter(starts_on__lte=end, ends_on__gte=start)
    return list(qs.order_by("starts_on", "title"))
