"""A one-time code in the outbox: stored without the code, filled in only in what the provider gets."""

from __future__ import annotations

import uuid

from django.db import transaction

from clinicflow.core.models import Organization
from clinicflow.core.onetime import CODE_MARK, one_time_code
from clinicflow.messaging.services import message_enqueue_code
from clinicflow.messaging.tasks import Worker
from clinicflow.messaging.tests.conftest import SmsProviderServer


def test_code_message_is_stored_without_the_code_and_sent_with_it(
    org: Organization, sms_server: SmsProviderServer
) -> None:
    ref = str(uuid.uuid4())
    code = one_time_code(ref)
    with transaction.atomic():
        message = message_enqueue_code(
            org=org, channel="sms", to="+79165554433", language="ru", code_ref=ref, context={"branch": "B"}
        )
    message.refresh_from_db()
    assert message.patient_id is None and message.to == "+79165554433"
    assert code not in f"{message.subject}|{message.body_text}|{message.body_html}|{message.context}"
    assert CODE_MARK in message.body_text

    summary = Worker().run_once()

    assert summary.sent == 1
    assert (
        code in sms_server.requests[0].body["text"] and CODE_MARK not in sms_server.requests[0].body["text"]
    )
    message.refresh_from_db()
    assert message.status == "sent" and code not in message.body_text
