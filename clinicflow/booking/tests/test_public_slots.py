"""The public slot search with "any doctor": each free time once, the whole week filled, and the
doctor named on the next step after the patient chose a time."""

from __future__ import annotations

import datetime as dt
import html
import re

from django.test import Client
from django.utils import timezone

from clinicflow.booking.tests.conftest import Clinic

DAY = re.compile(r"<h3>(.*?)</h3><div class=\"slots\">(.*?)</div>")
SLOT = re.compile(r'<a class="slot" href="([^"]+)"[^>]*>(\d\d:\d\d)</a>')


def _week(clinic: Clinic, doctor: str = "") -> list[tuple[str, list[tuple[str, str]]]]:
    tomorrow = timezone.now().astimezone(clinic.branch.tz).date() + dt.timedelta(days=1)
    r = Client().get(
        f"/book/{clinic.branch.pk}/",
        {"service": str(clinic.consult.pk), "doctor": doctor, "date": tomorrow.isoformat()},
    )
    assert r.status_code == 200
    return [(day, SLOT.findall(slots)) for day, slots in DAY.findall(r.content.decode())]


def test_any_doctor_shows_each_time_once_on_every_day_of_the_week(clinic: Clinic) -> None:
    one = _week(clinic, str(clinic.doctor2.pk))
    anyone = _week(clinic)
    assert len(one) == 7
    # Two doctors work the same hours: "any" lists the same days and times as one doctor, each once.
    assert [(d, [t for _, t in s]) for d, s in anyone] == [(d, [t for _, t in s]) for d, s in one]
    for _day, slots in anyone:
        labels = [t for _, t in slots]
        assert len(labels) == len(set(labels)) > 30


def test_any_doctor_names_the_doctor_after_the_time_is_chosen(clinic: Clinic) -> None:
    _day, slots = _week(clinic)[0]
    href, label = slots[0]
    page = Client().get(html.unescape(href)).content.decode()
    names = {clinic.doctor.full_name, clinic.doctor2.full_name}
    assert sum(name in page for name in names) == 1
    assert label in page


def test_an_invalid_email_is_named_in_its_message(clinic: Clinic) -> None:
    tomorrow = timezone.now().astimezone(clinic.branch.tz).date() + dt.timedelta(days=1)
    start = dt.datetime.combine(tomorrow, dt.time(10), tzinfo=clinic.branch.tz).astimezone(dt.UTC)
    r = Client().post(
        f"/book/{clinic.branch.pk}/details/",
        {
            "service": str(clinic.consult.pk),
            "doctor": str(clinic.doctor.pk),
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "first_name": "Maria",
            "last_name": "Kuznetsova",
            "email": "maria.example.org",
            "channel": "email",
        },
    )
    assert r.status_code == 422
    assert "“maria.example.org” does not look like an e-mail address." in html.unescape(r.content.decode())
