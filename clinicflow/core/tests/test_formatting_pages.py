"""Real pages read right in Russian and Chinese: grouped numbers, money with its symbol, genitive and
月日 dates, percentages, charts told the table's unit; the exports keep the raw numbers."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

import pytest

from clinicflow.acquisition import defaults
from clinicflow.acquisition.models import AdSpend, Call, CallStatus
from clinicflow.booking.models import Appointment, Doctor, Payment
from clinicflow.booking.tests.factories import make_service
from clinicflow.patients.models import PatientPrediction
from clinicflow.patients.tests.factories import make_patient

pytestmark = pytest.mark.django_db
NBSP = "\u00a0"
QUERY = {"from": "2025-03-01", "to": "2025-03-31"}


def _client(web: Any, role: str, language: str) -> Any:
    client = web(role)
    client.cookies["cf_language"] = language
    return client


def _text(html: str) -> str:
    """The page without tags, so that a figure split by markup still reads as one."""
    return re.sub(r"<[^>]+>", "", html)


@pytest.fixture
def spend(org: Any, branch: Any) -> None:
    """1,234,567.89 RUB of search ads in March 2025, and four calls of which one was missed."""
    search = defaults.channel_for_code(org=org, code="search_ads")
    for day, amount in ((3, "1234000.00"), (4, "567.89")):
        AdSpend.objects.create(
            organization=org,
            date=dt.date(2025, 3, day),
            channel=search,
            spend=Decimal(amount),
            currency="RUB",
        )
    for i, status in enumerate([CallStatus.COMPLETED] * 3 + [CallStatus.MISSED]):
        Call.objects.create(
            organization=org,
            provider="generic",
            provider_call_id=f"fmt{i}",
            branch=branch,
            caller_e164=f"+7916777{i:04d}",
            started_at=dt.datetime(2025, 3, 5 + i, 9, tzinfo=dt.UTC),
            status=status,
            status_rank=3 if status == CallStatus.COMPLETED else 1,
            is_unique=True,
            channel=search,
        )


@pytest.mark.parametrize(
    ("language", "money", "percent"),
    [
        ("ru", f"1{NBSP}234{NBSP}567,89{NBSP}₽", f"25,0{NBSP}%"),
        ("zh-hans", "₽1,234,567.89", "25.0%"),
        ("en", "₽1,234,567.89", "25.0%"),
    ],
)
def test_a_report_shows_money_and_percentages_for_the_language(
    web: Any, users: Any, spend: None, language: str, money: str, percent: str
) -> None:
    response = _client(web, "owner", language).get("/analytics/reports/channels/", QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    assert money in html
    assert percent in html
    table = _text(html[html.index("<table") : html.index("</table>")])
    assert "1234567.89" not in table and money in table  # no raw figure in the table
    assert '<div class="table-scroll"><table' in html


def test_the_report_chart_is_told_the_tables_unit(web: Any, users: Any, spend: None) -> None:
    html = _client(web, "owner", "ru").get("/analytics/reports/channels/", QUERY).content.decode()
    payload = json.loads(re.search(r'<script id="chart-data"[^>]*>(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert payload["currency"] == "RUB"
    assert {s["unit"] for s in payload["series"]} <= {"money", "int", "float", "percent"}
    assert payload["unit"] == payload["series"][0]["unit"]


def test_exports_keep_raw_exact_numbers_whatever_the_language(web: Any, users: Any, spend: None) -> None:
    client = _client(web, "owner", "ru")
    csv_text = client.get("/analytics/reports/channels/export.csv", QUERY).content.decode("utf-8-sig")
    assert "1234567.89" in csv_text
    assert NBSP not in csv_text and "₽" not in csv_text


def test_the_patient_list_in_russian_and_chinese(web: Any, users: Any, org: Any, branch: Any) -> None:
    patient = make_patient(org, branch=branch, last_name="Orlova", birth_date=dt.date(1990, 12, 5))
    PatientPrediction.objects.create(
        organization=org,
        patient=patient,
        p_alive=0.873,
        expected_visits=2.5,
        expected_value=Decimal("48000.50"),
        clv=Decimal("48000.50"),
        currency="RUB",
        until=dt.date(2027, 12, 1),
    )
    ru = _client(web, "owner", "ru").get("/patients/", {"sort": "-clv"}).content.decode()
    assert "5 декабря 1990 г." in ru
    assert f"48{NBSP}000,50{NBSP}₽" in ru and f"87{NBSP}%" in ru
    zh = _client(web, "owner", "zh-hans").get("/patients/", {"sort": "-clv"}).content.decode()
    assert "1990年12月5日" in zh
    assert "₽48,000.50" in zh and "87%" in zh


@pytest.fixture
def visit(org: Any, branch: Any) -> Appointment:
    """A visit on Saturday 5 December 2026 at 14:30 Moscow time, 12,000.00 RUB, paid 1,500.50."""
    service = make_service(org)
    doctor = Doctor.objects.create(organization=org, full_name="Dr A")
    patient = make_patient(org, branch=branch)
    start = dt.datetime(2026, 12, 5, 14, 30, tzinfo=branch.tz)
    appointment = Appointment.objects.create(
        organization=org,
        branch=branch,
        patient=patient,
        service=service,
        doctor=doctor,
        start_at=start,
        end_at=start + dt.timedelta(hours=1),
        busy_until=start + dt.timedelta(hours=1),
        status="booked",
        price=Decimal("12000.00"),
        currency="RUB",
    )
    Payment.objects.create(
        organization=org,
        patient=patient,
        branch=branch,
        appointment=appointment,
        amount=Decimal("1500.50"),
        currency="RUB",
        method="card",
        paid_at=start - dt.timedelta(days=1),
    )
    return appointment


def test_the_appointment_page_in_russian(web: Any, users: Any, visit: Appointment) -> None:
    html = _client(web, "frontdesk", "ru").get(f"/booking/a/{visit.pk}/").content.decode()
    assert "5 декабря 2026 г., 14:30" in html
    assert f"12{NBSP}000,00{NBSP}₽" in html
    assert f"1{NBSP}500,50{NBSP}₽" in html and "4 декабря 2026 г., 14:30" in html


def test_the_appointment_page_in_chinese(web: Any, users: Any, visit: Appointment) -> None:
    html = _client(web, "frontdesk", "zh-hans").get(f"/booking/a/{visit.pk}/").content.decode()
    assert "2026年12月5日 14:30" in html
    assert "₽12,000.00" in html


@pytest.mark.parametrize(("language", "day"), [("ru", "сб, 5 декабря"), ("zh-hans", "12月5日 周六")])
def test_the_calendar_week_names_its_days_in_the_language(
    web: Any, users: Any, branch: Any, visit: Appointment, language: str, day: str
) -> None:
    query = {"branch": str(branch.pk), "date": "2026-12-05", "view": "week"}
    html = _client(web, "frontdesk", language).get("/booking/", query).content.decode()
    assert day in html
    assert "Sat 05.12" not in html
    assert '<div class="table-scroll"><table' in html


def test_report_counts_credited_in_parts_keep_their_fraction_whole_ones_show_none() -> None:
    from django.utils import translation

    from clinicflow.analytics.reports.base import Column
    from clinicflow.analytics.templatetags.cf_reports import cell

    column = Column("first", "First visits", "float")
    with translation.override("ru"):
        assert cell({"first": Decimal("181.00")}, column) == "181"
        assert cell({"first": 1234.5}, column) == "1\xa0234,50"
