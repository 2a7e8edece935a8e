"""The number of SQL queries one booking costs is pinned: a booking used to take 59 queries in the
service (67 through the API) — six outbox messages at ~7 queries each. Messages are now written in
one batch (``message_enqueue_many``) and the doctor's links are checked in one query; only the room
that will be used is locked (two queries: the lock and a re-check), so bookings of different rooms
do not wait for each other."""

from __future__ import annotations

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinicflow.booking import services
from clinicflow.booking.models import Appointment
from clinicflow.booking.tests.conftest import Clinic
from clinicflow.booking.tests.factories import local, next_weekday
from clinicflow.core.models import AuditEvent
from clinicflow.messaging.models import Message, MessageAttachment

# appointment_book: links 1, schedule 1 (one UNION), price 1, first visit 1, rooms read + closures 2,
# doctor's and rooms' appointments 1 (no doctor lock: the exclusion constraint refuses overlaps),
# lock one room + re-check 2, insert 3 (with its savepoint), settings 1, outbox 6 (phones, templates,
# savepoint, messages, attachment, release; no dedupe lookup for a new appointment's keys), audit 3
# = 22, plus the service's own savepoint pair inside the test transaction
BOOK_BUDGET = 26  # + the outgoing-webhook subscriptions (one query per event), + the owner facts change row
# the API adds the bearer token, the patient, service, doctor and branch lookups (no read-back)
API_BUDGET = 32  # + the outgoing-webhook subscriptions (one query per event), + the owner facts change row


def _queries(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries]


def test_booking_stays_within_its_query_budget_and_writes_everything(clinic: Clinic) -> None:
    start = local(clinic.branch, next_weekday(1), 10)
    with CaptureQueriesContext(connection) as ctx:
        appt = services.appointment_book(
            org=clinic.org,
            actor=None,
            branch=clinic.branch,
            patient=clinic.patient,
            service=clinic.laser,
            doctor=clinic.doctor,
            start=start,
        )
    sql = _queries(ctx)
    assert len(sql) <= BOOK_BUDGET, "\n".join(sql)
    # one INSERT for all six messages, one for the attachment
    assert sum(1 for q in sql if q.startswith('INSERT INTO "messaging_message"')) == 1
    assert sum(1 for q in sql if q.startswith('INSERT INTO "messaging_messageattachment"')) == 1
    assert Message.objects.filter(organization=clinic.org).count() == 6
    assert MessageAttachment.objects.filter(organization=clinic.org).count() == 1
    assert AuditEvent.objects.filter(organization=clinic.org, object_id=str(appt.pk)).count() == 1
    assert Appointment.objects.get(pk=appt.pk).room_id == clinic.room.pk


def test_the_query_count_does_not_grow_with_reminder_offsets(clinic: Clinic) -> None:
    services.settings_save(
        org=clinic.org, actor=None, branch=clinic.branch, reminder_offsets_minutes=[2880, 1440, 240, 120, 60]
    )
    start = local(clinic.branch, next_weekday(1), 10)
    with CaptureQueriesContext(connection) as ctx:
        services.appointment_book(
            org=clinic.org,
            actor=None,
            branch=clinic.branch,
            patient=clinic.patient,
            service=clinic.laser,
            doctor=clinic.doctor,
            start=start,
        )
    assert len(ctx.captured_queries) <= BOOK_BUDGET
    assert Message.objects.filter(organization=clinic.org).count() == 12


def test_booking_through_the_api_stays_within_its_query_budget(clinic: Clinic, api) -> None:  # type: ignore[no-untyped-def]
    client = api("frontdesk")
    start = local(clinic.branch, next_weekday(1), 11)
    body = {
        "patient": str(clinic.patient.pk),
        "service": str(clinic.laser.pk),
        "doctor": str(clinic.doctor.pk),
        "branch": str(clinic.branch.pk),
        "start": start.isoformat(),
    }
    with CaptureQueriesContext(connection) as ctx:
        r = client.post("/api/v1/appointments", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 201, r.content
    assert len(ctx.captured_queries) <= API_BUDGET, "\n".join(_queries(ctx))
    assert Message.objects.filter(organization=clinic.org).count() == 6
