"""A patient opens the survey link on a phone-sized screen (headless Chromium) and answers 3; the
complaint appears in the manager's list with a deadline, and the doctor's NPS in the report changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.core.tests.chromium import ARGS, CHROMIUM
from clinicflow.feedback.models import Complaint
from clinicflow.feedback.services.answers import answer_submit
from clinicflow.feedback.services.surveys import survey_create
from clinicflow.feedback.tests.setup import make_visit

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]


def test_patient_answers_3_and_the_manager_sees_the_complaint_and_the_nps_change(  # type: ignore[no-untyped-def]
    org, branch, users, live_server, monkeypatch
) -> None:
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    visit = make_visit(org, branch, users)
    # an earlier visit of the same doctor was answered 10: the doctor's NPS is 100 before
    Appointment.objects.filter(pk=visit.consult_appt.pk).update(status=AppointmentStatus.DONE)
    earlier, _t = survey_create(org=org, actor=None, appointment=visit.consult_appt, send=False)
    answer_submit(org=org, survey=earlier, data={"nps": 10, "csat": 5})
    _survey, token = survey_create(org=org, actor=None, appointment=visit.appt, send=False)
    session = Client()
    session.force_login(visit.manager, backend="django.contrib.auth.backends.ModelBackend")
    cookie = session.cookies[settings.SESSION_COOKIE_NAME].value
    today = dt.date.today()
    period = f"from={today - dt.timedelta(days=30)}&to={today + dt.timedelta(days=1)}"
    report = f"{live_server.url}/analytics/reports/nps/?group=doctor&{period}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            manager = browser.new_context(viewport={"width": 1280, "height": 900})
            manager.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
            )
            staff = manager.new_page()
            staff.goto(report)
            assert _nps_cell(staff) == "100"

            phone = browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
            )
            page = phone.new_page()
            page.goto(f"{live_server.url}/s/{token}/")
            assert page.locator("html").get_attribute("lang") == "ru"
            page.locator("#nps-3").check()
            page.locator('label[for="csat-2"]').tap()
            page.locator('label[for="result-4"]').tap()
            page.get_by_label("Комментарий").fill("Долго ждала")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390  # no sideways scrolling on a phone
            page.locator('button[type="submit"]').tap()
            page.wait_for_selector("text=Спасибо за ваш отзыв")

            complaint = Complaint.objects.for_org(org).get()
            assert complaint.owner_id == visit.manager.pk
            staff.goto(f"{live_server.url}/feedback/complaints/")
            row = staff.locator("#complaints tbody tr").first
            text = row.inner_text()
            assert visit.patient.last_name in text and "NPS 3" in text
            local_deadline = complaint.deadline.astimezone(dt.timezone(dt.timedelta(hours=3)))
            assert local_deadline.strftime("%H:%M") in row.locator(".deadline").inner_text()

            staff.goto(report)
            assert _nps_cell(staff) == "0"  # one promoter, one detractor
        finally:
            browser.close()


def _nps_cell(page: Any) -> str:
    """The NPS cell of Dr Petrova's row in the report's table (columns: group, answers, promoters,
    detractors, NPS, ...)."""
    row = page.locator("table tbody tr", has_text="Dr Petrova").first
    return str(row.locator("td").nth(4).inner_text()).strip()
