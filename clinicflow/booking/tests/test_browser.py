"""A patient books through the public page in headless Chromium; the front desk then finds the
appointment in the staff calendar. Runs in the normal suite whenever /usr/bin/chromium exists."""

from __future__ import annotations

import pytest

from clinicflow.booking.models import Appointment
from clinicflow.booking.tests.conftest import Clinic
from clinicflow.booking.tests.factories import next_weekday
from clinicflow.conftest import PASSWORD
from clinicflow.core.onetime import one_time_code
from clinicflow.core.tests.chromium import ARGS, CHROMIUM
from clinicflow.messaging.models import Message

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (apt-get install chromium)"
    ),
]


def test_patient_books_online_and_front_desk_sees_it_in_the_calendar(
    clinic: Clinic, live_server, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM reads below are plain and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    day = next_weekday(0)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            page.goto(f"{live_server.url}/book/{clinic.branch.pk}/")
            page.get_by_role("link", name="Laser resurfacing").click()
            page.goto(f"{page.url}&date={day.isoformat()}")
            page.locator("a.slot", has_text="10:00").first.click()
            page.fill("#f-first", "Maria")
            page.fill("#f-last", "Kuznetsova")
            page.fill("#f-phone", "+7 916 555-44-33")
            page.get_by_role("button", name="Send the code").click()
            page.wait_for_selector("#f-code")
            code = one_time_code(Message.objects.get(kind="booking_code").context["code_ref"])
            page.fill("#f-code", code)
            page.get_by_role("button", name="Confirm the booking").click()
            page.wait_for_selector("#booking-summary")
            assert "You are booked" in page.content()
            assert "10:00" in page.inner_text("#when")

            appt = Appointment.objects.get()
            assert appt.source == "online" and appt.patient.last_name == "Kuznetsova"

            staff = browser.new_page()
            staff.goto(f"{live_server.url}/accounts/login/")
            staff.fill("#id_username", "frontdesk@demo.test")
            staff.fill("#id_password", PASSWORD)
            staff.get_by_role("button", name="Log in").click()
            staff.wait_for_load_state()
            staff.goto(f"{live_server.url}/booking/?branch={clinic.branch.pk}&date={day.isoformat()}")
            cell = staff.locator("#calendar a.appt", has_text="Kuznetsova Maria")
            assert cell.count() == 1
            assert "10:00–11:00" in cell.inner_text()
        finally:
            browser.close()
