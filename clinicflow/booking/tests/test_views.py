from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinicflow.analytics.owner.capload_facts import build_capacity_facts
from clinicflow.booking import services
from clinicflow.booking.models import Appointment, BookingCode
from clinicflow.booking.tests.conftest import Clinic
from clinicflow.booking.tests.factories import local, next_weekday
from clinicflow.core.onetime import one_time_code
from clinicflow.messaging.models import Message


def _book(c: Clinic, hour: int = 10):  # type: ignore[no-untyped-def]
    return services.appointment_book(
        org=c.org,
        actor=None,
        branch=c.branch,
        patient=c.patient,
        service=c.laser,
        doctor=c.doctor,
        start=local(c.branch, next_weekday(0), hour),
    )


def test_calendar_shows_the_day_in_the_branch_zone_with_a_fixed_query_count(clinic: Clinic, web) -> None:  # type: ignore[no-untyped-def]
    a = _book(clinic)
    _book(clinic, 12)
    client = web("frontdesk")
    url = f"/booking/?branch={clinic.branch.pk}&date={a.start_at.astimezone(clinic.branch.tz).date()}"
    with CaptureQueriesContext(connection) as q:
        r = client.get(url)
    assert r.status_code == 200
    body = r.content.decode()
    assert "10:00–11:00 Ivanova Anna" in body and "12:00–13:00 Ivanova Anna" in body
    assert len(q) <= 12
    r = client.get(url + "&by=room&view=week")
    assert r.status_code == 200 and "Dr Petrova" in r.content.decode()


def test_pages_by_role(clinic: Clinic, web) -> None:  # type: ignore[no-untyped-def]
    a = _book(clinic)
    assert web("marketer").get("/booking/").status_code == 403
    assert web("doctor").get(f"/booking/a/{a.pk}/").status_code == 200
    assert web("frontdesk").get("/booking/setup/").status_code == 403
    assert web("manager").get(f"/booking/setup/?branch={clinic.branch.pk}").status_code == 200
    assert web("manager").get(f"/booking/doctors/{clinic.doctor.pk}/schedule/").status_code == 200
    assert web("owner").get(f"/analytics/capacity/?branch={clinic.branch.pk}").status_code == 200
    assert web("frontdesk").get("/analytics/capacity/").status_code == 403
    assert web("doctor").get("/booking/my/").status_code == 200
    assert (
        web("frontdesk")
        .get(
            f"/booking/slots/?branch={clinic.branch.pk}&service={clinic.laser.pk}&patient={clinic.patient.pk}"
        )
        .status_code
        == 200
    )
    assert web("frontdesk").get(f"/booking/waitlist/?branch={clinic.branch.pk}").status_code == 200


def test_outsider_gets_404_for_appointment_pages(clinic: Clinic, web) -> None:  # type: ignore[no-untyped-def]
    a = _book(clinic)
    r = web("outsider").get(f"/booking/a/{a.pk}/")
    assert r.status_code == 404 and "Ivanova" not in r.content.decode()
    r = web("outsider").post(f"/booking/a/{a.pk}/cancel/", {"reason": "x"})
    assert r.status_code == 404
    assert Appointment.objects.get(pk=a.pk).status == "booked"
    assert web("outsider").get(f"/booking/doctors/{clinic.doctor.pk}/schedule/").status_code == 404


def test_front_desk_books_moves_cancels_and_marks_through_pages(clinic: Clinic, web) -> None:  # type: ignore[no-untyped-def]
    client = web("frontdesk")
    day = next_weekday(0)
    r = client.post(
        "/booking/book/",
        {
            "branch": str(clinic.branch.pk),
            "patient": str(clinic.patient.pk),
            "service": str(clinic.laser.pk),
            "doctor": str(clinic.doctor.pk),
            "start": f"{day}T10:00",
        },
    )
    assert r.status_code == 302
    a = Appointment.objects.get()
    assert a.start_at == local(clinic.branch, day, 10) and a.source == "staff"
    client.post(f"/booking/a/{a.pk}/move/", {"start": f"{day}T11:00"})
    a.refresh_from_db()
    assert a.start_at == local(clinic.branch, day, 11)
    r = client.post(f"/booking/a/{a.pk}/move/", {"start": f"{day}T23:00"}, follow=True)
    assert "outside the doctor&#x27;s working hours" in r.content.decode()
    client.post(f"/booking/a/{a.pk}/cancel/", {"reason": "Rescheduling later"})
    a.refresh_from_db()
    assert (a.status, a.cancel_reason) == ("cancelled", "Rescheduling later")


def test_ical_feed_is_public_secret_and_shows_initials_only(clinic: Clinic) -> None:
    _book(clinic)
    _doctor, token = services.doctor_rotate_ical_token(org=clinic.org, actor=None, doctor=clinic.doctor)
    r = Client().get(f"/booking/ical/{token}.ics")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/calendar")
    text = r.content.decode()
    assert "BEGIN:VEVENT" in text and "A. I." in text and "Ivanova" not in text
    assert Client().get("/booking/ical/" + "x" * 43 + ".ics").status_code == 404


def _public_details(c: Clinic, client: Client, start: dt.datetime, **fields):  # type: ignore[no-untyped-def]
    data = {
        "service": str(c.laser.pk),
        "doctor": str(c.doctor.pk),
        "start": start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "first_name": "Maria",
        "last_name": "Kuznetsova",
        "phone": "8 916 555-44-33",
        "channel": "sms",
    }
    data.update(fields)
    return client.post(f"/book/{c.branch.pk}/details/", data)


def test_public_booking_with_an_sms_code_creates_patient_and_confirmed_appointment(clinic: Clinic) -> None:
    client = Client()
    r = client.get(f"/book/{clinic.branch.pk}/?service={clinic.laser.pk}&date={next_weekday(0)}")
    assert r.status_code == 200 and "09:00" in r.content.decode()
    start = local(clinic.branch, next_weekday(0), 10)
    r = _public_details(clinic, client, start)
    assert r.status_code == 302
    row = BookingCode.objects.get()
    assert row.destination == "+79165554433" and len(row.code_hash) == 64
    msg = Message.objects.get(kind="booking_code")
    code = one_time_code(msg.context["code_ref"])
    assert len(code) == 6 and code not in row.code_hash and msg.to == "+79165554433"
    r = client.post(r["Location"], {"code": "000000" if code != "000000" else "111111"})
    assert r.status_code == 422
    r = client.post(f"/book/{clinic.branch.pk}/confirm/{row.pk}/", {"code": code})
    assert r.status_code == 302
    a = Appointment.objects.get()
    assert (a.status, a.source, a.patient.first_name) == ("confirmed", "online", "Maria")
    page = client.get(r["Location"])
    assert f"{start:%H:%M}" in page.content.decode()
    ics = client.get(r["Location"] + "appointment.ics")
    assert b"BEGIN:VEVENT" in ics.content
    confirmation = Message.objects.get(kind="appointment_confirmation", channel="sms")
    assert confirmation.context["start_local"].endswith("10:00")
    # the code cannot be used twice
    assert client.post(f"/book/{clinic.branch.pk}/confirm/{row.pk}/", {"code": code}).status_code == 410


def test_public_code_attempts_and_requests_are_limited(clinic: Clinic) -> None:
    client = Client()
    start = local(clinic.branch, next_weekday(0), 10)
    for _ in range(3):
        assert _public_details(clinic, client, start).status_code == 302
    assert _public_details(clinic, client, start).status_code == 429
    row = BookingCode.objects.order_by("created_at").first()
    for _ in range(5):
        client.post(f"/book/{clinic.branch.pk}/confirm/{row.pk}/", {"code": "999999"})
    row.refresh_from_db()
    assert row.attempts == 5
    code = one_time_code(Message.objects.filter(dedupe_key=f"code:{row.pk}").get().context["code_ref"])
    assert client.post(f"/book/{clinic.branch.pk}/confirm/{row.pk}/", {"code": code}).status_code == 410
    assert Appointment.objects.count() == 0


def test_public_details_refuse_bad_input_and_taken_slots(clinic: Clinic) -> None:
    client = Client()
    start = local(clinic.branch, next_weekday(0), 10)
    r = _public_details(clinic, client, start, phone="12", first_name="")
    assert r.status_code == 422 and BookingCode.objects.count() == 0
    assert client.get("/book/00000000-0000-0000-0000-000000000000/").status_code == 404
    _book(clinic)
    assert _public_details(clinic, client, start).status_code == 302
    row = BookingCode.objects.get()
    code = one_time_code(Message.objects.get(dedupe_key=f"code:{row.pk}").context["code_ref"])
    r = client.post(f"/book/{clinic.branch.pk}/confirm/{row.pk}/", {"code": code})
    assert r.status_code == 409 and Appointment.objects.count() == 1


def test_patient_cancels_by_link_until_the_cutoff(clinic: Clinic) -> None:
    a = _book(clinic)
    client = Client()
    url = services.manage_path(a)
    assert client.get(f"/book/manage/{a.pk}/{'x' * 43}/").status_code == 404
    r = client.get(url + "?move=1")
    assert r.status_code == 200 and "09:00" in r.content.decode()
    r = client.post(url + "cancel/", {"reason": ""})
    assert r.status_code == 302
    a.refresh_from_db()
    assert (a.status, a.cancel_reason) == ("cancelled", "Cancelled by the patient online")


def test_capacity_reports_compute(clinic: Clinic, api) -> None:  # type: ignore[no-untyped-def]
    a = _book(clinic)
    day = a.start_at.astimezone(clinic.branch.tz).date()
    build_capacity_facts(clinic.org, [day])  # the load report reads its facts (#17)
    r = api("owner").get(
        "/api/v1/reports/capacity_load",
        {"from": str(day), "to": str(day), "branch": str(clinic.branch.pk), "by": "doctor"},
    )
    assert r.status_code == 200, r.content
    rows = {row["name"]: row for row in r.json()["rows"]}
    assert (
        rows["Dr Petrova (Moscow)"]["booked_h"] == 1.0 and rows["Dr Petrova (Moscow)"]["available_h"] == 9.0
    )
    for name in ("capacity_heatmap", "capacity_attendance", "capacity_empty_slots"):
        assert (
            api("owner").get(f"/api/v1/reports/{name}", {"from": str(day), "to": str(day)}).status_code == 200
        )
    assert api("frontdesk").get("/api/v1/reports/capacity_load").status_code == 403
