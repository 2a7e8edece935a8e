"""Staff resolve a message in the ``unknown`` state (handed to the provider, never confirmed) from the
outbox page: delivered, failed, or queued again to retry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import transaction
from django.test import Client

from clinicflow.core.models import AuditEvent, Organization
from clinicflow.messaging.models import Message
from clinicflow.messaging.services import message_enqueue
from clinicflow.messaging.tests.factories import APPT_CONTEXT, make_patient

pytestmark = pytest.mark.django_db

Web = Callable[[str], Client]


def _message(org: Organization, status: str) -> Message:
    patient = make_patient(org)
    with transaction.atomic():
        message = message_enqueue(
            org=org, patient=patient, channel="sms", kind="appointment_reminder", context=APPT_CONTEXT
        )
    assert message is not None
    Message.objects.filter(pk=message.pk).update(status=status, attempts=1, last_error="lease expired")
    return message


@pytest.mark.parametrize(
    ("outcome", "status", "reason"),
    [
        ("sent", "sent", "marked delivered by staff"),
        ("failed", "failed", "marked failed by staff"),
        ("retry", "queued", "retry requested by staff"),
    ],
)
def test_unknown_message_is_resolved_by_a_manager_and_audited(
    web: Web, org: Organization, outcome: str, status: str, reason: str
) -> None:
    message = _message(org, "unknown")
    res = web("manager").post(f"/messaging/{message.pk}/resolve/", {"outcome": outcome})
    assert res.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.last_error) == (status, reason)
    assert (message.sent_at is not None) == (outcome == "sent")
    assert AuditEvent.objects.filter(
        organization=org, object_type="message", object_id=str(message.pk), action="update"
    ).exists()


def test_unknown_messages_show_the_resolve_buttons_to_a_manager(web: Web, org: Organization) -> None:
    message = _message(org, "unknown")
    html = web("manager").get("/messaging/?status=unknown").content.decode()
    assert f"/messaging/{message.pk}/resolve/" in html


def test_a_message_not_in_the_unknown_state_is_left_unchanged(web: Web, org: Organization) -> None:
    message = _message(org, "sent")
    res = web("manager").post(f"/messaging/{message.pk}/resolve/", {"outcome": "retry"})
    assert res.status_code == 302
    message.refresh_from_db()
    assert (message.status, message.last_error, message.attempts) == ("sent", "lease expired", 1)


@pytest.mark.parametrize("persona", ["frontdesk", "doctor", "marketer"])
def test_only_messaging_managers_resolve(web: Web, org: Organization, persona: str) -> None:
    message = _message(org, "unknown")
    res = web(persona).post(f"/messaging/{message.pk}/resolve/", {"outcome": "sent"})
    assert res.status_code == 403
    message.refresh_from_db()
    assert message.status == "unknown"


def test_an_unknown_outcome_is_refused(web: Web, org: Organization) -> None:
    message = _message(org, "unknown")
    res = web("manager").post(f"/messaging/{message.pk}/resolve/", {"outcome": "delete"})
    assert res.status_code == 302
    message.refresh_from_db()
    assert message.status == "unknown"
