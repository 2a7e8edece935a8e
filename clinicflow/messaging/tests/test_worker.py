from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from freezegun import freeze_time

from clinicflow.messaging.channels.base import SmsProvider
from clinicflow.messaging.channels.registry import sms_provider
from clinicflow.messaging.models import Message
from clinicflow.messaging.services import message_enqueue
from clinicflow.messaging.tasks import Summary, Worker
from clinicflow.messaging.tests.factories import APPT_CONTEXT, grant, make_patient
from clinicflow.patients.models import ConsentEvent, ConsentEventKind, ConsentMethod, ConsentPurpose


class WorkerDied(BaseException):
    """Stands for the process being killed: not an Exception, so nothing in the worker catches it."""


class DiesAfterHandingOver(SmsProvider):
    """The real HTTP provider, after which the worker process "dies" before recording the result."""

    name = "http_json"

    def __init__(self) -> None:
        self.real = sms_provider()
        self.region = self.real.region

    def send(self, to_e164: str, text: str, idempotency_key: str) -> str:
        self.real.send(to_e164, text, idempotency_key)
        raise WorkerDied


def enqueue(org, patient, *, channel="sms", kind="appointment_reminder", purpose="service", key=None):
    with transaction.atomic():
        return message_enqueue(
            org=org,
            patient=patient,
            channel=channel,
            kind=kind,
            purpose=purpose,
            context=APPT_CONTEXT,
            dedupe_key=key,
        )


@pytest.mark.django_db
def test_crash_between_claim_and_send_loses_nothing_and_sends_once(org, sms_server):
    patient = make_patient(org)
    start = timezone.now().replace(microsecond=0)
    with freeze_time(start):
        message = enqueue(org, patient)
        dead = Worker(worker_id="dead", lease_seconds=300)
        assert dead.claim() == [message.pk]  # ... and the worker dies here, before sending
    message.refresh_from_db()
    assert (message.status, message.claimed_by) == ("sending", "dead")

    with freeze_time(start + dt.timedelta(seconds=299)):
        assert Worker(worker_id="b").run_once().sent == 0  # the lease still holds
    assert sms_server.requests == []

    with freeze_time(start + dt.timedelta(seconds=301)):
        summary = Worker(worker_id="b").run_once()
    assert (summary.requeued, summary.sent) == (1, 1)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.claimed_by) == ("sent", 1, "b")
    assert len(sms_server.requests) == 1

    # the dead worker's late attempt to continue changes nothing
    late = Summary()
    dead.deliver(message.pk, late)
    assert (late.sent, late.skipped) == (0, 1)
    assert len(sms_server.requests) == 1


@pytest.mark.django_db
def test_crash_after_handing_over_marks_the_message_unknown_and_never_resends(org, sms_server):
    patient = make_patient(org)
    start = timezone.now().replace(microsecond=0)
    with freeze_time(start):
        message = enqueue(org, patient)
        with pytest.raises(WorkerDied):
            Worker(worker_id="dead", sms=DiesAfterHandingOver()).run_once()
    assert len(sms_server.requests) == 1
    message.refresh_from_db()
    assert message.status == "sending" and message.handed_over_at is not None

    with freeze_time(start + dt.timedelta(seconds=301)):
        summary = Worker(worker_id="b").run_once()
    assert (summary.unknown, summary.sent, summary.requeued) == (1, 0, 0)
    message.refresh_from_db()
    assert message.status == "unknown"
    assert message.last_error == "the worker stopped after handing the message to the provider; check by hand"
    with freeze_time(start + dt.timedelta(days=1)):
        assert Worker(worker_id="c").run_once().sent == 0
    assert len(sms_server.requests) == 1


@pytest.mark.django_db
def test_marketing_whose_consent_is_gone_at_send_time_is_cancelled_not_sent(org, sms_server):
    patient = make_patient(org)
    grant(org, patient, ConsentPurpose.MARKETING_SMS)
    message = enqueue(org, patient, kind="marketing", purpose="marketing")
    assert message is not None
    # a withdrawal recorded without the hook running (e.g. imported in bulk)
    ConsentEvent(
        organization=org,
        patient=patient,
        purpose=ConsentPurpose.MARKETING_SMS,
        kind=ConsentEventKind.WITHDRAWN,
        method=ConsentMethod.WRITTEN,
    ).save(force_insert=True)

    summary = Worker().run_once()

    assert (summary.cancelled, summary.sent) == (1, 0)
    message.refresh_from_db()
    assert (message.status, message.last_error, message.attempts) == (
        "cancelled",
        "no marketing consent at send time",
        0,
    )
    assert sms_server.requests == []


@pytest.mark.django_db
def test_withdrawing_consent_after_queueing_cancels_and_nothing_is_sent(org, sms_server):
    from clinicflow.messaging.tests.factories import withdraw

    patient = make_patient(org)
    grant(org, patient, ConsentPurpose.MARKETING_SMS)
    message = enqueue(org, patient, kind="marketing", purpose="marketing")
    withdraw(org, patient, ConsentPurpose.MARKETING_SMS)
    message.refresh_from_db()
    assert (message.status, message.last_error) == ("cancelled", "marketing consent withdrawn")
    assert Worker().run_once().sent == 0
    assert sms_server.requests == []


@pytest.mark.django_db
def test_marketing_with_consent_and_service_messages_without_it_are_sent(org, sms_server):
    consenting = make_patient(org, phones=["+79161234567"], email="a@example.com")
    grant(org, consenting, ConsentPurpose.MARKETING_SMS)
    no_consent = make_patient(org, phones=["+79031112233"], email="b@example.com")
    enqueue(org, consenting, kind="marketing", purpose="marketing")
    enqueue(org, no_consent, kind="appointment_reminder")
    assert enqueue(org, no_consent, kind="marketing", purpose="marketing") is None

    summary = Worker().run_once()

    assert summary.sent == 2
    assert sorted(r.body["to"] for r in sms_server.requests) == ["+79031112233", "+79161234567"]


@pytest.mark.django_db
def test_messages_due_later_wait(org, sms_server):
    patient = make_patient(org)
    with transaction.atomic():
        message = message_enqueue(
            org=org,
            patient=patient,
            channel="sms",
            kind="appointment_reminder",
            context=APPT_CONTEXT,
            send_after=timezone.now() + dt.timedelta(hours=2),
        )
    assert Worker().run_once().sent == 0
    with freeze_time(timezone.now() + dt.timedelta(hours=2, seconds=1)):
        assert Worker().run_once().sent == 1
    message.refresh_from_db()
    assert message.status == "sent"


@pytest.mark.django_db
def test_worker_command_once_prints_a_summary(org, sms_server):
    patient = make_patient(org)
    enqueue(org, patient)
    out = StringIO()
    call_command("worker", "--once", "--batch", "10", "--max-attempts", "3", stdout=out)
    assert (
        out.getvalue()
        .strip()
        .endswith("sent=1 failed=0 retried=0 cancelled=0 unknown=0 requeued=0 skipped=0")
    )
    assert Message.objects.get().status == "sent"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_postgresql_never_send_a_message_twice(org, sms_server):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED claiming needs PostgreSQL (SQLite has no row locks)")
    patients = [make_patient(org, phones=[f"+7916123{i:04d}"], email="") for i in range(60)]
    for i, p in enumerate(patients):
        enqueue(org, p, key=f"k{i}")
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []
    summaries = []

    def run(name: str) -> None:
        try:
            worker = Worker(worker_id=name, batch=5)
            barrier.wait()
            summaries.append(worker.run_once())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    keys = Counter(r.body["idempotency_key"] for r in sms_server.requests)
    assert len(keys) == 60
    assert max(keys.values()) == 1
    assert sum(s.sent for s in summaries) == 60
    assert Message.objects.filter(status="sent").count() == 60
    assert len(summaries) == 4
