"""Recall messages from a recall list (page and API): SMS or e-mail through the outbox in the patient's
language, refused with a clear reason without the channel's marketing consent (nothing sent or
recorded), the contact recorded when sent, and the outbox's own check at send time."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from clinicflow.care.models import RecallContact, RecallKind, RecallList
from clinicflow.care.services.recall import recall_lists_ensure
from clinicflow.care.tests.factories import done_visit, setup
from clinicflow.care.tests.test_recall import _predict
from clinicflow.core.models import Branch, Organization
from clinicflow.messaging.models import Message
from clinicflow.patients.models import Patient
from clinicflow.patients.services import consent_record

pytestmark = pytest.mark.django_db


def _lapsed(org: Organization) -> RecallList:
    recall_lists_ensure(org=org)
    return RecallList.objects.for_org(org).get(kind=RecallKind.LAPSED)


def _consent(org: Organization, patient: Patient, purpose: str, *, granted: bool = True) -> None:
    consent_record(
        org=org, actor=None, patient=patient, purpose=purpose, granted=granted, method="electronic"
    )


def _post(client: Client, url: str, **data: str) -> tuple[int, dict[str, object]]:
    r = client.post(url, json.dumps(data), content_type="application/json")
    return r.status_code, r.json()


def test_without_marketing_consent_the_message_is_refused_with_the_reason(
    org: Organization, branch: Branch, api: Callable[[str], Client]
) -> None:
    _service, _doctor, anna = setup(org, branch)
    url = f"/api/v1/recall-lists/{_lapsed(org).pk}/messages"
    status, body = _post(api("frontdesk"), url, patient=str(anna.pk), channel="email")
    assert status == 409
    error = body["error"]
    assert isinstance(error, dict) and error["code"] == "no_marketing_consent"
    assert "consent" in str(error["message"]) and error["fields"] == {"channel": ["no marketing consent"]}
    # consent for SMS does not cover e-mail
    _consent(org, anna, "marketing_sms")
    assert _post(api("frontdesk"), url, patient=str(anna.pk), channel="email")[0] == 409
    assert Message.objects.for_org(org).filter(kind="recall").count() == 0
    assert RecallContact.objects.for_org(org).count() == 0


def test_with_consent_the_message_goes_in_the_patients_language_and_the_contact_is_recorded(
    org: Organization, branch: Branch, api: Callable[[str], Client]
) -> None:
    service, doctor, anna = setup(org, branch)  # Anna prefers Russian
    done_visit(org, branch, anna, service, doctor, timezone.now() - dt.timedelta(days=200))
    _consent(org, anna, "marketing_email")
    rl = _lapsed(org)
    status, body = _post(
        api("frontdesk"), f"/api/v1/recall-lists/{rl.pk}/messages", patient=str(anna.pk), channel="email"
    )
    assert status == 201 and body["channel"] == "email" and body["outcome"] == "sent"
    message = Message.objects.for_org(org).get(kind="recall")
    assert (message.channel, message.purpose, message.language) == ("email", "marketing", "ru")
    assert message.to == "anna@example.test" and "процедур" in message.body_text
    contact = RecallContact.objects.for_org(org).get()
    assert contact.recall_list_id == rl.pk and contact.patient_id == anna.pk
    # no phone: an SMS is refused with its own reason
    status, body = _post(
        api("frontdesk"), f"/api/v1/recall-lists/{rl.pk}/messages", patient=str(anna.pk), channel="sms"
    )
    assert status == 409
    # the channel is validated
    status, _body = _post(
        api("frontdesk"), f"/api/v1/recall-lists/{rl.pk}/messages", patient=str(anna.pk), channel="call"
    )
    assert status == 422
    assert RecallContact.objects.for_org(org).count() == 1


def test_the_recall_page_sends_a_message_or_shows_why_not(
    org: Organization, branch: Branch, web: Callable[[str], Client]
) -> None:
    service, doctor, anna = setup(org, branch)
    done_visit(org, branch, anna, service, doctor, timezone.now() - dt.timedelta(days=300))
    _predict(org, anna, "50000", 0.3)  # lapsed: on the list
    rl = _lapsed(org)
    client = web("frontdesk")
    page = client.get(f"/care/recall/{rl.pk}/")
    assert page.status_code == 200 and f"/care/recall/{rl.pk}/message/" in page.content.decode()
    r = client.post(
        f"/care/recall/{rl.pk}/message/", {"patient": str(anna.pk), "channel": "email"}, follow=True
    )
    assert r.status_code == 200 and "not consented to marketing" in r.content.decode()
    assert not Message.objects.for_org(org).filter(kind="recall").exists()
    _consent(org, anna, "marketing_email")
    r = client.post(
        f"/care/recall/{rl.pk}/message/", {"patient": str(anna.pk), "channel": "email"}, follow=True
    )
    assert "Recall message queued" in r.content.decode()
    assert Message.objects.for_org(org).filter(kind="recall").count() == 1
    assert web("doctor").post(f"/care/recall/{rl.pk}/message/", {"patient": str(anna.pk)}).status_code == 403


def test_another_organisations_list_or_patient_is_404(
    org: Organization, other_org: Organization, branch: Branch, api: Callable[[str], Client]
) -> None:
    _service, _doctor, anna = setup(org, branch)
    theirs = _lapsed(other_org)
    status, _body = _post(
        api("owner"), f"/api/v1/recall-lists/{theirs.pk}/messages", patient=str(anna.pk), channel="email"
    )
    assert status == 404
    status, _body = _post(
        api("outsider"), f"/api/v1/recall-lists/{theirs.pk}/messages", patient=str(anna.pk), channel="email"
    )
    assert status == 404
    assert not RecallContact.objects.exists()
