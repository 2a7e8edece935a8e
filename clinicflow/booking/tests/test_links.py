"""Manage links and calendar feeds expire and can be rotated: an old or expired manage link gets a
clear "expired" page (never a 500) and changes nothing; an old or expired feed address gets a bare
404; feed tokens are stored hashed; every rotation is audited."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.db import connection
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time

from clinicflow.booking import links, services
from clinicflow.booking.models import Appointment, AppointmentStatus, Doctor
from clinicflow.booking.tests.conftest import Clinic
from clinicflow.booking.tests.factories import local, next_weekday
from clinicflow.core.models import AuditEvent
from clinicflow.messaging.models import Message

EXPIRED_TEXT = "This link has expired; ask the clinic for a new one."


def _book(c: Clinic, hour: int = 10) -> Appointment:
    return services.appointment_book(
        org=c.org,
        actor=None,
        branch=c.branch,
        patient=c.patient,
        service=c.laser,
        doctor=c.doctor,
        start=local(c.branch, next_weekday(0), hour),
    )


# --- manage links ----------------------------------------------------------------------------------------


def test_a_manage_link_stores_no_readable_secret_and_a_forged_one_is_404(clinic: Clinic) -> None:
    a = _book(clinic)
    token = links.manage_token(a)
    version, mac = token.split(".")
    assert version == "1" and len(mac) == 32
    with connection.cursor() as cur:
        cur.execute(
            "SELECT * FROM booking_appointment WHERE id = %s",
            [a.pk.hex if connection.vendor == "sqlite" else a.pk],
        )
        row = cur.fetchone()
    assert not any(mac in str(v) for v in row)
    client = Client()
    assert client.get(services.manage_path(a)).status_code == 200
    for bad in (f"2.{mac}", f"1.{'0' * 32}", mac, "x" * 43, f"1.{mac[:-1]}"):
        r = client.get(f"/book/manage/{a.pk}/{bad}/")
        assert r.status_code == 404, bad
        assert EXPIRED_TEXT not in r.content.decode()


def test_a_manage_link_expires_after_the_visit_and_its_grace_period(clinic: Clinic) -> None:
    a = _book(clinic)
    url = services.manage_path(a)
    with freeze_time(a.end_at + links.MANAGE_GRACE - dt.timedelta(minutes=1)):
        r = Client().get(url)
        assert r.status_code == 200 and "Cancel the appointment" not in r.content.decode()  # read-only
    with freeze_time(a.end_at + links.MANAGE_GRACE):
        client = Client()
        for r in (
            client.get(url),
            client.get(url + "appointment.ics"),
            client.post(url + "cancel/", {"reason": ""}),
            client.get(url + "?move=1"),
        ):
            assert r.status_code == 410
            assert EXPIRED_TEXT in r.content.decode() and a.service.name not in r.content.decode()
    a.refresh_from_db()
    assert a.status == AppointmentStatus.BOOKED


def test_staff_issue_a_new_manage_link_and_the_old_one_expires_at_once(clinic: Clinic, web: Any) -> None:
    a = _book(clinic)
    old = services.manage_path(a)
    old_reminders = set(
        Message.objects.filter(kind="appointment_reminder", status="queued").values_list("pk", flat=True)
    )
    assert old_reminders
    frontdesk = web("frontdesk")
    card = frontdesk.get(f"/booking/a/{a.pk}/").content.decode()
    assert old in card
    r = frontdesk.post(f"/booking/a/{a.pk}/link/")
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.manage_version == 2
    new = services.manage_path(a)
    assert new != old and new in frontdesk.get(f"/booking/a/{a.pk}/").content.decode()
    patient = Client()
    r = patient.get(old)
    assert r.status_code == 410 and EXPIRED_TEXT in r.content.decode()
    r = patient.post(old + "cancel/", {"reason": "stolen link"})
    assert r.status_code == 410
    a.refresh_from_db()
    assert a.status == AppointmentStatus.BOOKED
    assert patient.get(new).status_code == 200
    event = AuditEvent.objects.filter(object_type="appointment", object_id=str(a.pk), action="update").get()
    assert (event.fields, event.actor_email) == (["manage_version"], "frontdesk@demo.test")
    # the patient gets the new link; queued messages carrying the old one are replaced
    sent = Message.objects.get(kind="appointment_confirmation", channel="sms", dedupe_key__contains=":link2:")
    assert sent.context["manage_url"].endswith(new)
    queued = Message.objects.filter(kind="appointment_reminder", status="queued")
    assert queued.exists() and not old_reminders & set(queued.values_list("pk", flat=True))
    assert all(m.context["manage_url"].endswith(new) for m in queued)


def test_issuing_a_manage_link_is_for_the_front_desk_of_the_organisation(
    clinic: Clinic, web: Any, other_org: Any
) -> None:
    a = _book(clinic)
    assert web("outsider").post(f"/booking/a/{a.pk}/link/").status_code == 404
    assert web("marketer").post(f"/booking/a/{a.pk}/link/").status_code == 403
    assert "manage-url" not in web("doctor").get(f"/booking/a/{a.pk}/").content.decode()
    a.refresh_from_db()
    assert a.manage_version == 1


# --- calendar feeds --------------------------------------------------------------------------------------


def _rotate(c: Clinic) -> str:
    _doctor, token = services.doctor_rotate_ical_token(org=c.org, actor=None, doctor=c.doctor)
    return token


def test_feed_tokens_are_stored_hashed_with_a_one_year_expiry(clinic: Clinic) -> None:
    token = _rotate(clinic)
    row = Doctor.objects.filter(pk=clinic.doctor.pk).values().get()
    assert token not in " ".join(str(v) for v in row.values())
    assert row["ical_token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert abs(row["ical_expires_at"] - (timezone.now() + dt.timedelta(days=365))) < dt.timedelta(minutes=1)
    assert Client().get(f"/booking/ical/{token}.ics").status_code == 200
    with freeze_time(row["ical_expires_at"] + dt.timedelta(seconds=1)):
        r = Client().get(f"/booking/ical/{token}.ics")
    assert r.status_code == 404 and clinic.doctor.full_name.encode() not in r.content


def test_feed_lifetime_follows_the_setting(clinic: Clinic, settings: Any) -> None:
    settings.CLINICFLOW = {**settings.CLINICFLOW, "ICAL_FEED_DAYS": 30}
    _rotate(clinic)
    clinic.doctor.refresh_from_db()
    expected = timezone.now() + dt.timedelta(days=30)
    assert clinic.doctor.ical_expires_at is not None
    assert abs(clinic.doctor.ical_expires_at - expected) < dt.timedelta(minutes=1)


def test_the_manager_rotates_the_feed_and_the_old_address_is_404_at_once(clinic: Clinic, web: Any) -> None:
    old = _rotate(clinic)
    manager = web("manager")
    page = manager.get(f"/booking/doctors/{clinic.doctor.pk}/schedule/?branch={clinic.branch.pk}")
    assert page.status_code == 200 and old not in page.content.decode()
    expires = clinic.doctor.ical_expires_at
    assert expires is not None and f"active until {expires.astimezone(clinic.branch.tz):%-d %B %Y}" in (
        page.content.decode()
    )
    r = manager.post(f"/booking/doctors/{clinic.doctor.pk}/schedule/ical/", {"branch": str(clinic.branch.pk)})
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    clinic.doctor.refresh_from_db()
    body = r.content.decode()
    new = body.split('<code id="ical-url">')[1].split("</code>")[0].rsplit("/", 1)[1].removesuffix(".ics")
    assert hashlib.sha256(new.encode()).hexdigest() == clinic.doctor.ical_token_hash
    gone = Client().get(f"/booking/ical/{old}.ics")
    assert gone.status_code == 404 and b"Petrova" not in gone.content
    assert Client().get(f"/booking/ical/{new}.ics").status_code == 200
    again = manager.get(f"/booking/doctors/{clinic.doctor.pk}/schedule/?branch={clinic.branch.pk}")
    assert new not in again.content.decode()  # shown once
    events = AuditEvent.objects.filter(
        object_type="doctor", object_id=str(clinic.doctor.pk), action="update"
    ).order_by("seq")
    assert [(e.fields, e.actor_email) for e in events if "ical_token_hash" in e.fields] == [
        (["ical_expires_at", "ical_token_hash"], ""),
        (["ical_expires_at", "ical_token_hash"], "manager@demo.test"),
    ]


def test_a_doctor_makes_their_own_feed_address(clinic: Clinic, web: Any, users: Any) -> None:
    services.doctor_update(
        org=clinic.org, actor=None, doctor=clinic.doctor, full_name="Dr Petrova", user=users["doctor"]
    )
    client = web("doctor")
    assert "No feed address yet." in client.get("/booking/my/").content.decode()
    r = client.post("/booking/my/ical/")
    assert r.status_code == 200
    url = r.content.decode().split('<code id="ical-url">')[1].split("</code>")[0]
    assert Client().get(url.split("testserver", 1)[1]).status_code == 200
    assert web("frontdesk").post("/booking/my/ical/").status_code == 403
