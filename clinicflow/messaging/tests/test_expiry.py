"""A message whose purpose has passed (``not_after``) is never sent late: the worker cancels it with
the reason instead, whatever delayed it (a stopped worker, retries, a backlog)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import transaction
from django.utils import timezone
from freezegun import freeze_time

from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import Organization
from clinicflow.messaging.models import Message
from clinicflow.messaging.services import message_enqueue, message_enqueue_code
from clinicflow.messaging.tasks import Worker
from clinicflow.messaging.tests.conftest import SmsProviderServer, SmtpCollector
from clinicflow.messaging.tests.factories import APPT_CONTEXT, make_patient

pytestmark = pytest.mark.django_db


def enqueue(org: Organization, *, channel: str, kind: str, not_after: dt.datetime | None) -> Message:
    patient = make_patient(org)
    with transaction.atomic():
        message = message_enqueue(
            org=org, patient=patient, channel=channel, kind=kind, context=APPT_CONTEXT, not_after=not_after
        )
    assert message is not None
    return message


def test_reminder_claimed_after_the_visit_is_cancelled_with_the_reason_and_no_sms_is_sent(
    org: Organization, sms_server: SmsProviderServer
) -> None:
    start = timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)
    message = enqueue(org, channel="sms", kind="appointment_reminder", not_after=start)

    with freeze_time(start + dt.timedelta(seconds=1)):
        summary = Worker().run_once()

    assert (summary.sent, summary.cancelled) == (0, 1)
    assert sms_server.requests == []
    message.refresh_from_db()
    assert message.status == "cancelled"
    assert message.last_error == f"expired: not sent after {start.isoformat()}"
    assert (message.attempts, message.handed_over_at, message.sent_at) == (0, None, None)


def test_confirmation_claimed_after_the_start_is_not_delivered_over_smtp(
    org: Organization, smtp_server: SmtpCollector
) -> None:
    start = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=30)
    message = enqueue(org, channel="email", kind="appointment_confirmation", not_after=start)

    with freeze_time(start + dt.timedelta(minutes=5)):
        summary = Worker().run_once()

    assert (summary.sent, summary.cancelled) == (0, 1)
    assert smtp_server.received == []
    message.refresh_from_db()
    assert message.status == "cancelled"
    assert message.last_error == f"expired: not sent after {start.isoformat()}"


def test_booking_code_claimed_after_its_expiry_is_not_sent(
    org: Organization, sms_server: SmsProviderServer
) -> None:
    expires = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=10)
    with transaction.atomic():
        message = message_enqueue_code(
            org=org,
            channel="sms",
            to="+79165554433",
            language="ru",
            code_ref=str(uuid.uuid4()),
            context={"branch": "B"},
            not_after=expires,
        )
    assert message.not_after == expires

    with freeze_time(expires + dt.timedelta(seconds=1)):
        summary = Worker().run_once()

    assert (summary.sent, summary.cancelled) == (0, 1)
    assert sms_server.requests == []
    message.refresh_from_db()
    assert message.status == "cancelled"
    assert message.last_error == f"expired: not sent after {expires.isoformat()}"


def test_a_retry_that_comes_due_after_not_after_is_cancelled_not_sent(
    org: Organization, sms_server: SmsProviderServer
) -> None:
    now = timezone.now().replace(microsecond=0)
    sms_server.script = [503]

    with freeze_time(now):
        message = enqueue(
            org, channel="sms", kind="appointment_reminder", not_after=now + dt.timedelta(minutes=2)
        )
        first = Worker(backoff_base=60).run_once()
    with freeze_time(now + dt.timedelta(minutes=3)):
        second = Worker(backoff_base=60).run_once()

    assert (first.retried, second.sent, second.cancelled) == (1, 0, 1)
    assert len(sms_server.requests) == 1  # the one refused attempt, no late send
    message.refresh_from_db()
    assert message.status == "cancelled" and message.last_error.startswith("expired: not sent after ")


def test_message_claimed_before_not_after_is_sent(org: Organization, sms_server: SmsProviderServer) -> None:
    now = timezone.now().replace(microsecond=0)
    message = enqueue(org, channel="sms", kind="appointment_reminder", not_after=now + dt.timedelta(hours=1))

    with freeze_time(now + dt.timedelta(minutes=59)):
        summary = Worker().run_once()

    assert (summary.sent, summary.cancelled) == (1, 0)
    assert len(sms_server.requests) == 1
    message.refresh_from_db()
    assert (message.status, message.last_error) == ("sent", "")


def test_message_without_not_after_is_sent_however_late(
    org: Organization, sms_server: SmsProviderServer
) -> None:
    message = enqueue(org, channel="sms", kind="thank_you", not_after=None)

    with freeze_time(timezone.now() + dt.timedelta(days=30)):
        summary = Worker().run_once()

    assert (summary.sent, summary.cancelled) == (1, 0)
    message.refresh_from_db()
    assert (message.status, message.not_after) == ("sent", None)


def test_a_naive_not_after_is_refused_and_nothing_is_queued(org: Organization) -> None:
    patient = make_patient(org)
    with pytest.raises(ValidationFailed), transaction.atomic():
        message_enqueue(
            org=org,
            patient=patient,
            channel="sms",
            kind="appointment_reminder",
            context=APPT_CONTEXT,
            not_after=dt.datetime(2030, 1, 1, 10, 0),  # naive on purpose
        )
    assert not Message.objects.filter(organization=org).exists()
