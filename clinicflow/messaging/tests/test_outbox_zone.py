"""The outbox shows each message's times on its clinic's clock (the branch's zone), not in UTC."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from clinicflow.messaging.models import Message
from clinicflow.messaging.services import message_enqueue
from clinicflow.messaging.tests.factories import APPT_CONTEXT, make_patient

pytestmark = pytest.mark.django_db
AT = dt.datetime(2026, 3, 2, 3, 5, tzinfo=dt.UTC)


def _message(org, context):  # type: ignore[no-untyped-def]
    patient = make_patient(org, first="Anna", phones=["+79161234567"])
    with transaction.atomic():
        m = message_enqueue(
            org=org, patient=patient, channel="sms", kind="appointment_reminder", context=context
        )
    Message.objects.filter(pk=m.pk).update(created_at=AT, send_after=AT, sent_at=AT + dt.timedelta(hours=1))
    return m


def test_outbox_times_are_in_the_messages_branch_zone(web, org, branch, branch2) -> None:
    _message(org, {**APPT_CONTEXT, "branch": "Novosibirsk"})
    html = web("manager").get("/messaging/").content.decode()
    # 03:05 UTC is 10:05 in Novosibirsk (UTC+7)
    assert "2 March, 10:05" in html and "2 March, 11:05" in html
    assert "2 March, 03:05" not in html and "2 March, 06:05" not in html
    assert "Asia/Novosibirsk" in html


def test_without_a_branch_the_outbox_uses_the_organisations_clinic_zone(web, org, branch) -> None:
    _message(org, {})
    html = web("manager").get("/messaging/").content.decode()
    assert "2 March, 06:05" in html  # Moscow, UTC+3
    assert "2 March, 03:05" not in html


def test_the_api_gives_the_times_with_the_clinics_offset_and_zone(api, org, branch, branch2) -> None:
    _message(org, {**APPT_CONTEXT, "branch": "Novosibirsk"})
    item = api("owner").get("/api/v1/messages").json()["items"][0]
    assert item["zone"] == "Asia/Novosibirsk"
    assert item["created_at"].startswith("2026-03-02T10:05:00+07:00")
    assert dt.datetime.fromisoformat(item["created_at"]) == AT
