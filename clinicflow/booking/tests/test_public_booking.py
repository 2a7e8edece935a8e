"""The public booking page against an outside attacker: the code goes to the address typed, nothing
is stored and nothing differs for a known contact until the code is verified, the limits hold in the
shared store, and the outbox never holds a code readable."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from clinicflow.booking.models import Appointment, BookingCode
from clinicflow.booking.services import appointment_book, public
from clinicflow.booking.tests.conftest import Clinic
from clinicflow.booking.tests.factories import local, next_weekday
from clinicflow.core.errors import Conflict
from clinicflow.core.onetime import CODE_MARK, one_time_code
from clinicflow.messaging.models import Message
from clinicflow.patients.models import Patient

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def _details(c: Clinic, client: Client, **fields: str) -> Any:
    start = local(c.branch, next_weekday(0), 10)
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


def _confirm(c: Clinic, client: Client, row: BookingCode) -> Any:
    return client.post(f"/book/{c.branch.pk}/confirm/{row.pk}/", {"code": one_time_code(str(row.pk))})


def test_code_goes_to_the_email_typed_not_to_the_matching_patients(clinic: Clinic) -> None:
    # the visitor types a known patient's phone and their own e-mail
    r = _details(clinic, Client(), phone="+79161234567", email="stranger@example.org", channel="email")
    assert r.status_code == 302
    msg = Message.objects.get(kind="booking_code")
    assert (msg.channel, msg.to, msg.patient_id) == ("email", "stranger@example.org", None)


def test_unverified_code_request_stores_no_patient_and_holds_no_slot(clinic: Clinic) -> None:
    patients = Patient.objects.count()
    assert _details(clinic, Client()).status_code == 302
    assert (Patient.objects.count(), Appointment.objects.count(), BookingCode.objects.count()) == (
        patients,
        0,
        1,
    )
    row = BookingCode.objects.get()
    assert _confirm(clinic, Client(), row).status_code == 302
    appt = Appointment.objects.get()
    assert Patient.objects.count() == patients + 1
    assert (appt.patient.first_name, appt.patient.email) == ("Maria", "")


def test_verified_code_matches_the_patient_by_the_verified_contact_only(clinic: Clinic) -> None:
    # the known patient's phone typed but the code sent by e-mail: no match by the unproven phone
    _details(clinic, Client(), phone="+79161234567", email="stranger@example.org", channel="email")
    assert _confirm(clinic, Client(), BookingCode.objects.get()).status_code == 302
    appt = Appointment.objects.get()
    assert appt.patient_id != clinic.patient.pk
    assert (appt.patient.email, list(appt.patient.phones.values_list("e164", flat=True))) == (
        "stranger@example.org",
        [],
    )
    # the known patient's e-mail, verified: matched
    start = local(clinic.branch, next_weekday(0), 12).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    _details(clinic, Client(), email="anna@example.org", channel="email", start=start)
    assert _confirm(clinic, Client(), BookingCode.objects.latest("created_at")).status_code == 302
    assert Appointment.objects.filter(patient=clinic.patient).count() == 1


def test_details_answer_the_same_for_a_known_and_an_unknown_contact(clinic: Clinic) -> None:
    patients = Patient.objects.count()
    answers = []
    for phone in ("+79161234567", "+79165554433"):  # the first is clinic.patient's
        client = Client()
        r = _details(clinic, client, phone=phone)
        page = client.get(r["Location"])
        code_id = str(BookingCode.objects.latest("created_at").pk)
        # apart from the CSRF token and the new code's own id, byte for byte the same
        body = CSRF.sub(b"", page.content).replace(code_id.encode(), b"<code id>")
        answers.append(
            (r.status_code, r.content, r["Location"].replace(code_id, "<code id>"), page.status_code, body)
        )
    assert answers[0] == answers[1]
    assert answers[0][0] == 302 and answers[0][3] == 200
    assert Patient.objects.count() == patients


def test_code_limits_live_in_the_shared_store_not_in_the_code_rows(clinic: Clinic) -> None:
    client = Client()
    for _ in range(3):
        assert _details(clinic, client).status_code == 302
    BookingCode.objects.all().delete()  # e.g. a clean-up of old codes: the counters stay
    assert _details(clinic, client).status_code == 429


def test_code_requests_are_limited_per_ip(clinic: Clinic) -> None:
    client = Client()
    for n in range(10):
        assert _details(clinic, client, phone=f"+7916555440{n}").status_code == 302
    assert _details(clinic, client, phone="+79165554420").status_code == 429
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert _details(clinic, other, phone="+79165554421").status_code == 302


def test_code_requests_are_limited_per_organisation(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(public, "PER_ORG", (2, dt.timedelta(hours=1)))
    for n in range(2):
        assert (
            _details(clinic, Client(REMOTE_ADDR=f"192.0.2.{n}"), phone=f"+7916555440{n}").status_code == 302
        )
    r = _details(clinic, Client(REMOTE_ADDR="192.0.2.99"), phone="+79165554499")
    assert r.status_code == 429 and BookingCode.objects.count() == 2


def test_public_slot_search_is_throttled_per_ip(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(public, "PER_IP_SEARCH", (2, dt.timedelta(minutes=1)))
    url = f"/book/{clinic.branch.pk}/?service={clinic.laser.pk}&date={next_weekday(0)}"
    client = Client()
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
    assert Client(REMOTE_ADDR="192.0.2.8").get(url).status_code == 200
    assert client.get(f"/book/{clinic.branch.pk}/").status_code == 200  # no search: not counted


def test_booking_code_is_not_readable_in_the_outbox(clinic: Clinic) -> None:
    _details(clinic, Client())
    row = BookingCode.objects.get()
    code = one_time_code(str(row.pk))
    msg = Message.objects.get(kind="booking_code")
    stored = f"{msg.subject}|{msg.body_text}|{msg.body_html}|{msg.context}"
    assert code not in stored and CODE_MARK in msg.body_text
    assert msg.context == {"branch": clinic.branch.name, "code_ref": str(row.pk)}


def test_booking_code_message_is_not_to_be_sent_after_the_code_expires(clinic: Clinic) -> None:
    _details(clinic, Client())
    row = BookingCode.objects.get()
    msg = Message.objects.get(kind="booking_code")
    assert msg.not_after == row.expires_at


def test_public_slot_search_is_throttled_per_organisation(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(public, "PER_ORG_SEARCH", (3, dt.timedelta(minutes=1)))
    url = f"/book/{clinic.branch.pk}/?service={clinic.laser.pk}&date={next_weekday(0)}"
    codes = [Client(REMOTE_ADDR=f"192.0.2.{n}").get(url).status_code for n in range(3)]
    r = Client(REMOTE_ADDR="192.0.2.50").get(url)  # a new address: only the organisation's count is over
    assert codes == [200, 200, 200]
    assert r.status_code == 429 and r["Retry-After"] == "60"
    assert "Too many searches. Please wait a minute and try again." in r.content.decode()
    assert "09:00" not in r.content.decode()


def test_the_move_search_of_a_manage_link_is_throttled(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clinicflow.booking import services

    monkeypatch.setattr(public, "PER_IP_SEARCH", (2, dt.timedelta(minutes=1)))
    appt = services.appointment_book(
        org=clinic.org,
        actor=None,
        branch=clinic.branch,
        patient=clinic.patient,
        service=clinic.laser,
        doctor=clinic.doctor,
        start=local(clinic.branch, next_weekday(0), 10),
    )
    client = Client()
    url = services.manage_path(appt) + "?move=1"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]
    assert client.get(services.manage_path(appt)).status_code == 200  # the page without a search


def test_a_booking_that_fails_leaves_the_code_unused_and_a_wrong_code_stays_counted(clinic: Clinic) -> None:
    assert _details(clinic, Client()).status_code == 302
    row = BookingCode.objects.get()
    # the slot is taken by the front desk between the code request and its confirmation
    appointment_book(
        org=clinic.org,
        actor=None,
        branch=clinic.branch,
        patient=clinic.patient,
        service=clinic.laser,
        doctor=clinic.doctor,
        start=local(clinic.branch, next_weekday(0), 10),
    )
    with pytest.raises(Conflict):
        public.public_booking_create(
            org=clinic.org, branch=clinic.branch, row=row, code=one_time_code(str(row.pk))
        )
    row.refresh_from_db()
    assert (row.used_at, row.attempts) == (None, 0)  # nothing half-written: the code is not spent
    with pytest.raises(public.WrongCode):
        wrong = str((int(one_time_code(str(row.pk))) + 1) % 1_000_000).zfill(6)
        public.public_booking_create(org=clinic.org, branch=clinic.branch, row=row, code=wrong)
    row.refresh_from_db()
    assert (row.used_at, row.attempts) == (None, 1)  # the wrong attempt is committed and counted
