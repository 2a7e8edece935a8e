"""Reads of the marketing calendar."""

from __future__ import annotations

import datetime as dt

from clinicflow.catalogue.models import ProductLine
from clinicflow.core.models import Branch, Organization
from clinicflow.marketing.models.calendar import CalendarEvent


def events_between(
    *,
    org: Organization,
    start: dt.date,
    end: dt.date,
    branch: Branch | None = None,
    line: ProductLine | None = None,
) -> list[CalendarEvent]:
    """Events overlapping [start, end] (a year view or a month view); with a branch or a product line,
    its events and those for every branch or line."""
    qs = CalendarEvent.objects.for_org(org).filter(starts_on__lte=end, ends_on__gte=start)
    if branch is not None:
        qs = qs.filter(branch__in=[branch]) | qs.filter(branch__isnull=True)
    if line is not None:
        qs = qs.filter(line__in=[line]) | qs.filter(line__isnull=True)
    return list(qs.select_related("branch", "line").order_by("starts_on", "title"))


def month_bounds(year: int, month: int | None) -> tuple[dt.date, dt.date]:
    """The first and last day of the month (of the year when ``month`` is None)."""
    if month is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    start = dt.date(year, month, 1)
    return start, (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
