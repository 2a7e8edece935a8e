from __future__ import annotations

import pytest
from django.db import transaction

from clinicflow.messaging.models import Message, MessageAttachment, Status
from clinicflow.messaging.services import message_cancel, message_enqueue
from clinicflow.messaging.tests.factories import APPT_CONTEXT, grant, make_patient, withdraw
from clinicflow.patients.models import ConsentPurpose

pytestmark = pytest.mark.django_db


def test_enqueue_renders_in_the_patients_language_and_stores_the_attachment(org):
    patient = make_patient(org, language="ru")
    m = message_enqueue(
        org=org,
        patient=patient,
        channel="email",
        kind="appointment_confirmation",
        context=APPT_CONTEXT,
        attachments=[("visit.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")],
    )
    assert m is not None
    m.refresh_from_db()
    assert m.status == Status.QUEUED
    assert m.language == "ru"
    assert m.to == "anna@example.com"
    assert m.subject == "Ваша запись на 2026-12-01 10:00 подтверждена"
    assert "Здравствуйте, Anna!" in m.body_text
    assert "Botox, врач Dr Ivanova, 2026-12-01 10:00, Moscow" in m.body_text
    assert '<a href="https://clinic.example/book/manage/abc">Управлять записью</a>' in m.body_html
    att = MessageAttachment.objects.get(message=m)
    assert (att.filename, att.content_type, bytes(att.content)) == (
        "visit.ics",
        "text/calendar",
        b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
    )


def test_enqueue_sms_goes_to_the_primary_phone_in_chinese(org):
    patient = make_patient(org, language="zh-hans", phones=["+79161234567", "+79031112233"])
    m = message_enqueue(
        org=org, patient=patient, channel="sms", kind="booking_code", context={"code": "4821"}
    )
    assert m is not None
    assert m.to == "+79161234567"
    assert m.body_text == "Demo Aesthetic Clinic：您的预约验证码为4821，请勿告诉他人。"


def test_enqueue_without_a_contact_returns_none_and_records_nothing(org):
    patient = make_patient(org, email="", phones=[])
    assert message_enqueue(org=org, patient=patient, channel="sms", kind="recall", context={}) is None
    assert message_enqueue(org=org, patient=patient, channel="email", kind="recall", context={}) is None
    assert Message.objects.count() == 0


def test_enqueue_with_the_same_dedupe_key_is_idempotent(org):
    patient = make_patient(org)
    key = "appt:1:reminder:24h"
    first = message_enqueue(
        org=org,
        patient=patient,
        channel="sms",
        kind="appointment_reminder",
        context=APPT_CONTEXT,
        dedupe_key=key,
    )
    again = message_enqueue(
        org=org,
        patient=patient,
        channel="sms",
        kind="appointment_reminder",
        context=APPT_CONTEXT,
        dedupe_key=key,
    )
    assert first is not None and again is not None
    assert again.pk == first.pk
    assert Message.objects.count() == 1


def test_enqueue_in_a_transaction_that_rolls_back_leaves_no_message(org):
    patient = make_patient(org)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        message_enqueue(org=org, patient=patient, channel="sms", kind="thank_you", context={})
        raise Boom
    assert Message.objects.count() == 0


def test_marketing_without_consent_is_not_queued(org):
    patient = make_patient(org)
    m = message_enqueue(
        org=org,
        patient=patient,
        channel="sms",
        kind="marketing",
        purpose="marketing",
        context={"text": "-20%"},
    )
    assert m is None
    assert Message.objects.count() == 0


def test_withdrawing_consent_cancels_queued_marketing_on_that_channel_only(org):
    patient = make_patient(org)
    grant(org, patient, ConsentPurpose.MARKETING_SMS)
    grant(org, patient, ConsentPurpose.MARKETING_EMAIL)
    sms = message_enqueue(
        org=org,
        patient=patient,
        channel="sms",
        kind="marketing",
        purpose="marketing",
        context={"text": "-20%"},
    )
    email = message_enqueue(
        org=org,
        patient=patient,
        channel="email",
        kind="marketing",
        purpose="marketing",
        context={"text": "-20%"},
    )
    service = message_enqueue(
        org=org, patient=patient, channel="sms", kind="appointment_reminder", context={}
    )
    withdraw(org, patient, ConsentPurpose.MARKETING_SMS)
    statuses = dict(Message.objects.values_list("pk", "status"))
    assert statuses == {sms.pk: "cancelled", email.pk: "queued", service.pk: "queued"}


def test_cancel_by_prefix_frees_the_key_for_a_new_reminder(org):
    patient = make_patient(org)
    a = message_enqueue(
        org=org,
        patient=patient,
        channel="sms",
        kind="appointment_reminder",
        context={},
        dedupe_key="appt:7:reminder:24h",
    )
    b = message_enqueue(
        org=org,
        patient=patient,
        channel="sms",
        kind="appointment_reminder",
        context={},
        dedupe_key="appt:7:reminder:2h",
    )
    other = message_enqueue(
        org=org,
        patient=patient,
        channel="sms",
        kind="appointment_reminder",
        context={},
        dedupe_key="appt:70:reminder:2h",
    )
    assert message_cancel(org=org, dedupe_key_prefix="appt:7:") == 2
    assert dict(Message.objects.values_list("pk", "status")) == {
        a.pk: "cancelled",
        b.pk: "cancelled",
        other.pk: "queued",
    }
    again = message_enqueue(
        org=org,
        patient=patient,
        channel="sms",
        kind="appointment_reminder",
        context={},
        dedupe_key="appt:7:reminder:24h",
    )
    assert again is not None and again.pk not in (a.pk, b.pk)
    assert again.status == "queued"


def test_cancel_by_prefix_does_not_touch_another_organisation(org, other_org):
    mine = make_patient(org)
    theirs = make_patient(other_org)
    message_enqueue(org=org, patient=mine, channel="sms", kind="thank_you", context={}, dedupe_key="appt:1:x")
    t = message_enqueue(
        org=other_org, patient=theirs, channel="sms", kind="thank_you", context={}, dedupe_key="appt:1:x"
    )
    assert message_cancel(org=org, dedupe_key_prefix="appt:1:") == 1
    t.refresh_from_db()
    assert t.status == "queued"
