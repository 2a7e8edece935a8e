"""The demo inbox: a public booking can be finished in the demo without SMTP or an SMS provider."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from clinicflow.booking.models import Appointment, BookingCode
from clinicflow.booking.tests import conftest as booking_fixtures
from clinicflow.booking.tests.factories import local, next_weekday
from clinicflow.messaging.channels import registry
from clinicflow.messaging.inbox import linkify
from clinicflow.messaging.models import DemoInboxMessage, Message
from clinicflow.messaging.tasks import Worker

pytestmark = pytest.mark.django_db
# the booking tests' clinic (services, doctors, rooms) and their rate-limit counters in the database
clinic = booking_fixtures.clinic
_counters_in_the_test_database = booking_fixtures._counters_in_the_test_database
CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture
def demo_channel(settings: Any) -> None:
    settings.MESSAGE_DELIVERY = "demo_inbox"
    settings.CLINICFLOW = {**settings.CLINICFLOW, "PUBLIC_URL": "http://127.0.0.1:8000"}


def _details(c: Any, channel: str, **extra: str) -> Any:
    start = local(c.branch, next_weekday(0), 10).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    data = {
        "service": str(c.laser.pk),
        "doctor": str(c.doctor.pk),
        "start": start,
        "first_name": "Maria",
        "last_name": "Kuznetsova",
        "phone": "+79165554433",
        "channel": channel,
        **extra,
    }
    return Client().post(f"/book/{c.branch.pk}/details/", data)


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_a_public_booking_is_finished_through_the_demo_inbox(
    clinic: Any, demo_channel: None, web: Any, channel: str
) -> None:
    assert _details(clinic, channel, email="maria@example.org").status_code == 302
    summary = Worker(worker_id="demo").run_once()
    assert summary.sent == 1
    assert Message.objects.get(kind="booking_code").status == "sent"
    page = web("frontdesk").get("/messaging/inbox/")
    assert page.status_code == 200
    text = page.content.decode()
    expected_to = "+79165554433" if channel == "sms" else "maria@example.org"
    assert expected_to in text
    match = CODE.search(DemoInboxMessage.objects.get().body_text)
    assert match is not None and match.group(1) in text
    row = BookingCode.objects.get()
    # the visitor's code page points to the demo inbox (only in the demo)
    assert (
        'href="/messaging/inbox/"'
        in Client().get(f"/book/{clinic.branch.pk}/confirm/{row.pk}/").content.decode()
    )
    r = Client().post(f"/book/{clinic.branch.pk}/confirm/{row.pk}/", {"code": match.group(1)})
    assert r.status_code == 302
    assert Appointment.objects.count() == 1


def test_the_inbox_shows_the_time_in_the_branch_zone(clinic: Any, demo_channel: None, web: Any) -> None:
    _details(clinic, "sms")
    Worker(worker_id="demo").run_once()
    row = DemoInboxMessage.objects.get()
    assert row.zone == clinic.branch.timezone
    local_time = row.created_at.astimezone(clinic.branch.tz).strftime("%-d %B, %H:%M")
    assert local_time in web("owner").get("/messaging/inbox/").content.decode()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("manager", 200), ("frontdesk", 200), ("marketer", 403), ("doctor", 403)],
)
def test_inbox_role_matrix(web: Any, demo_channel: None, persona: str, status: int) -> None:
    assert web(persona).get("/messaging/inbox/").status_code == status


def test_inbox_is_absent_without_the_demo_channel(web: Any, settings: Any) -> None:
    settings.MESSAGE_DELIVERY = ""
    assert web("owner").get("/messaging/inbox/").status_code == 404


def test_inbox_is_scoped_to_the_organisation(
    clinic: Any, demo_channel: None, web: Any, other_org: Any
) -> None:
    _details(clinic, "sms")
    Worker(worker_id="demo").run_once()
    assert DemoInboxMessage.objects.for_org(other_org).count() == 0
    assert DemoInboxMessage.objects.for_org(clinic.org).count() == 1


def test_linkify_escapes_and_links_only_this_installation(settings: Any) -> None:
    settings.CLINICFLOW = {**settings.CLINICFLOW, "PUBLIC_URL": "https://clinic.example"}
    html = str(linkify('Go <b>https://clinic.example/b/x?a=1&c=2</b>. Not https://evil.example/x "q"\nok'))
    assert '<a href="https://clinic.example/b/x?a=1&amp;c=2"' in html
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert "evil.example/x" in html and 'href="https://evil' not in html
    assert "&quot;q&quot;<br>ok" in html


def test_the_demo_channel_is_refused_under_production_settings(settings: Any) -> None:
    settings.MESSAGE_DELIVERY = "demo_inbox"
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured):
        registry.email_sender()
