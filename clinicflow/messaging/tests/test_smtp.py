from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from clinicflow.messaging.models import Message
from clinicflow.messaging.services import message_enqueue
from clinicflow.messaging.tasks import Worker
from clinicflow.messaging.tests.conftest import free_port
from clinicflow.messaging.tests.factories import APPT_CONTEXT, make_patient

pytestmark = pytest.mark.django_db

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Botox\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"


def enqueue_confirmation(org, patient):
    with transaction.atomic():
        return message_enqueue(
            org=org,
            patient=patient,
            channel="email",
            kind="appointment_confirmation",
            context=APPT_CONTEXT,
            attachments=[("appointment.ics", "text/calendar", ICS)],
        )


def test_email_is_delivered_over_smtp_in_the_patients_language_with_the_ics(org, smtp_server):
    patient = make_patient(org, language="ru", email="anna@example.com")
    message = enqueue_confirmation(org, patient)

    summary = Worker(batch=10).run_once()

    assert (summary.sent, summary.failed, summary.retried) == (1, 0, 0)
    assert len(smtp_server.received) == 1
    rcpt, mail = smtp_server.received[0]
    assert rcpt == ["anna@example.com"]
    assert mail["To"] == "anna@example.com"
    assert mail["From"] == "Demo Aesthetic Clinic <noreply@clinic.example>"
    assert mail["Subject"] == "Ваша запись на 2026-12-01 10:00 подтверждена"
    assert mail["Message-ID"] == f"<{message.pk}@clinicflow>"
    assert mail["Content-Language"] == "ru"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert text.startswith("Здравствуйте, Anna!\n\nВаша запись подтверждена: Botox, врач Dr Ivanova,")
    assert "Управлять записью</a>" in html
    attachments = list(mail.iter_attachments())
    assert [(a.get_filename(), a.get_content_type(), a.get_payload(decode=True)) for a in attachments] == [
        ("appointment.ics", "text/calendar", ICS)
    ]
    message.refresh_from_db()
    assert message.status == "sent"
    assert message.attempts == 1
    assert message.provider == "smtp"
    assert message.provider_message_id == f"<{message.pk}@clinicflow>"
    assert message.sent_at is not None and message.handed_over_at is not None
    assert message.claimed_until is None


def test_english_patient_gets_the_english_email(org, smtp_server):
    patient = make_patient(org, language="en", email="john@example.com", first="John")
    enqueue_confirmation(org, patient)
    Worker().run_once()
    _, mail = smtp_server.received[0]
    assert mail["Subject"] == "Your appointment on 2026-12-01 10:00 is confirmed"
    assert mail.get_body(preferencelist=("plain",)).get_content().startswith("Dear John,")


def test_unreachable_smtp_server_is_retried_with_backoff(org, settings):
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens there
    settings.EMAIL_REGION = "RU"
    patient = make_patient(org)
    message = enqueue_confirmation(org, patient)
    before = timezone.now()

    summary = Worker(max_attempts=3).run_once()

    assert (summary.sent, summary.retried, summary.failed) == (0, 1, 0)
    message.refresh_from_db()
    assert message.status == "queued"
    assert message.attempts == 1
    assert message.last_error == "SMTP server unreachable: ConnectionRefusedError"
    assert message.handed_over_at is None
    assert (
        before + dt.timedelta(seconds=60) <= message.send_after <= timezone.now() + dt.timedelta(seconds=60)
    )


def test_recipient_refused_by_smtp_is_a_permanent_failure(org, smtp_server):
    smtp_server.refuse.add("bad@example.com")
    patient = make_patient(org, email="bad@example.com")
    message = enqueue_confirmation(org, patient)

    summary = Worker().run_once()

    assert (summary.sent, summary.failed) == (0, 1)
    message.refresh_from_db()
    assert message.status == "failed"
    assert message.last_error == "SMTP recipient refused: 550"
    assert smtp_server.received == []
    assert Message.objects.filter(status="queued").count() == 0
