from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from freezegun import freeze_time

from clinicflow.messaging.models import Message, MessagingSettings
from clinicflow.messaging.services import message_enqueue
from clinicflow.messaging.tasks import Worker
from clinicflow.messaging.tests.conftest import SMS_TOKEN
from clinicflow.messaging.tests.factories import APPT_CONTEXT, grant, make_patient
from clinicflow.patients.models import ConsentPurpose

pytestmark = pytest.mark.django_db


def enqueue_reminder(org, patient, key="appt:1:reminder:24h"):
    with transaction.atomic():
        return message_enqueue(
            org=org,
            patient=patient,
            channel="sms",
            kind="appointment_reminder",
            context=APPT_CONTEXT,
            dedupe_key=key,
        )


def test_sms_is_posted_to_the_provider_with_bearer_key_and_idempotency_key(org, sms_server):
    patient = make_patient(org, language="ru", phones=["+79161234567"])
    message = enqueue_reminder(org, patient)

    summary = Worker().run_once()

    assert (summary.sent, summary.failed, summary.retried) == (1, 0, 0)
    assert len(sms_server.requests) == 1
    req = sms_server.requests[0]
    assert req.path == "/v1/sms"
    assert req.headers["authorization"] == f"Bearer {SMS_TOKEN}"
    assert req.headers["idempotency-key"] == str(message.pk)
    assert req.headers["content-type"] == "application/json"
    assert req.body == {
        "to": "+79161234567",
        "text": "Demo Aesthetic Clinic: напоминаем о записи — Botox 2026-12-01 10:00, врач Dr Ivanova, Moscow. "
        "Управление: https://clinic.example/book/manage/abc",
        "idempotency_key": str(message.pk),
    }
    message.refresh_from_db()
    assert (message.status, message.attempts, message.provider_message_id, message.provider) == (
        "sent",
        1,
        "prov-1",
        "http_json",
    )


def test_a_500_is_retried_after_backoff_then_a_200_sends_it(org, sms_server):
    sms_server.script = [500]
    patient = make_patient(org)
    start = timezone.now().replace(microsecond=0)
    with freeze_time(start):
        message = enqueue_reminder(org, patient)
        first = Worker(max_attempts=5).run_once()
    assert (first.sent, first.retried, first.failed) == (0, 1, 0)
    message.refresh_from_db()
    assert message.status == "queued"
    assert message.attempts == 1
    assert message.last_error == "SMS provider answered HTTP 500"
    assert message.send_after == start + dt.timedelta(seconds=60)

    with freeze_time(start + dt.timedelta(seconds=59)):
        early = Worker().run_once()
    assert (early.sent, early.retried) == (0, 0)
    assert len(sms_server.requests) == 1

    with freeze_time(start + dt.timedelta(seconds=61)):
        second = Worker().run_once()
    assert (second.sent, second.retried) == (1, 0)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error, message.provider_message_id) == (
        "sent",
        2,
        "",
        "prov-2",
    )
    keys = [r.body["idempotency_key"] for r in sms_server.requests]
    assert keys == [str(message.pk), str(message.pk)]


def test_backoff_doubles_and_the_last_attempt_fails(org, sms_server):
    sms_server.script = [503, 503, 503]
    patient = make_patient(org)
    start = timezone.now().replace(microsecond=0)
    with freeze_time(start):
        message = enqueue_reminder(org, patient)
        Worker(max_attempts=3).run_once()
    message.refresh_from_db()
    assert message.send_after == start + dt.timedelta(seconds=60)
    with freeze_time(start + dt.timedelta(seconds=61)):
        Worker(max_attempts=3).run_once()
    message.refresh_from_db()
    assert message.send_after == start + dt.timedelta(seconds=61 + 120)
    with freeze_time(start + dt.timedelta(seconds=61 + 121)):
        last = Worker(max_attempts=3).run_once()
    assert (last.failed, last.retried) == (1, 0)
    message.refresh_from_db()
    assert message.status == "failed"
    assert message.attempts == 3
    assert message.last_error == "SMS provider answered HTTP 503 (gave up after 3 attempts)"
    assert len(sms_server.requests) == 3


def test_a_400_is_a_permanent_failure_and_the_error_has_no_secret(org, sms_server):
    sms_server.script = [400]
    patient = make_patient(org)
    message = enqueue_reminder(org, patient)

    summary = Worker().run_once()

    assert (summary.sent, summary.failed, summary.retried) == (0, 1, 0)
    message.refresh_from_db()
    assert message.status == "failed"
    assert message.attempts == 1
    assert message.last_error == "SMS provider refused the message: HTTP 400"
    assert SMS_TOKEN not in message.last_error
    assert Worker().run_once().sent == 0
    assert len(sms_server.requests) == 1


def test_ru_patient_is_not_sent_to_a_provider_abroad(org, sms_server, settings):
    settings.SMS_PROVIDER_REGION = "EU"
    patient = make_patient(org)
    message = enqueue_reminder(org, patient)

    summary = Worker().run_once()

    assert (summary.sent, summary.failed) == (0, 1)
    message.refresh_from_db()
    assert message.status == "failed"
    assert message.last_error.startswith("data residency: a RU organisation's patient data may not be sent")
    assert message.handed_over_at is None
    assert sms_server.requests == []


def test_cross_border_needs_both_the_org_setting_and_the_patients_consent(org, sms_server, settings):
    settings.SMS_PROVIDER_REGION = "EU"
    MessagingSettings.objects.create(organization=org, allow_cross_border=True)
    without = make_patient(org, phones=["+79161234567"], email="a@example.com")
    with_consent = make_patient(org, phones=["+79031112233"], email="b@example.com", first="Boris")
    grant(org, with_consent, ConsentPurpose.CROSS_BORDER)
    m1 = enqueue_reminder(org, without, key="a")
    m2 = enqueue_reminder(org, with_consent, key="b")

    summary = Worker().run_once()

    assert (summary.sent, summary.failed) == (1, 1)
    assert dict(Message.objects.values_list("pk", "status")) == {m1.pk: "failed", m2.pk: "sent"}
    assert [r.body["to"] for r in sms_server.requests] == ["+79031112233"]


def test_without_a_configured_provider_sms_fails(org, settings):
    settings.SMS_PROVIDER_URL = ""
    patient = make_patient(org)
    message = enqueue_reminder(org, patient)
    summary = Worker().run_once()
    assert summary.failed == 1
    message.refresh_from_db()
    assert (message.status, message.last_error) == ("failed", "no SMS provider configured")
