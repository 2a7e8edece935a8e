"""The marketing calendar: the ready dates of a region, a month view, bad dates refused, iCalendar export."""

from __future__ import annotations

import json
from collections.abc import Callable

import icalendar
import pytest
from django.test import Client

from clinicflow.core.models import Organization
from clinicflow.marketing.models import CalendarEvent

pytestmark = pytest.mark.django_db


def test_the_calendar_starts_from_usual_dates_and_exports_ical(
    api: Callable[[str], Client], org: Organization
) -> None:
    client = api("marketer")
    post = lambda path, body: client.post(path, json.dumps(body), content_type="application/json")
    assert (
        post("/api/v1/marketing/calendar/usual-dates", {"region": "RU", "year": 2027}).json()["added"] == 11
    )
    assert post("/api/v1/marketing/calendar/usual-dates", {"region": "RU", "year": 2027}).json()["added"] == 0
    bad = post(
        "/api/v1/marketing/calendar",
        {"title": "X", "kind": "promotion", "starts_on": "2027-03-10", "ends_on": "2027-03-01"},
    )
    assert bad.status_code == 422 and "ends_on" in bad.json()["error"]["fields"]
    ok = post(
        "/api/v1/marketing/calendar",
        {
            "title": "Spring laser",
            "kind": "promotion",
            "starts_on": "2027-03-01",
            "ends_on": "2027-03-31",
            "budget": "50000",
        },
    )
    assert ok.status_code == 201
    march = client.get("/api/v1/marketing/calendar", {"year": 2027, "month": 3}).json()
    assert [e["title"] for e in march] == ["Spring laser", "International Women's Day"]
    ics = client.get("/api/v1/marketing/calendar.ics", {"year": 2027})
    cal = icalendar.Calendar.from_ical(ics.content)
    assert len(cal.walk("VEVENT")) == CalendarEvent.objects.for_org(org).count() == 12
