"""Restriction of processing (GDPR Art 18): set and lifted through the rights API and page, with its
reason logged and audited; while set the patient is left out of marketing audiences and is sent only
the messages of their own care."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from clinicflow.accounts.models import User
from clinicflow.core.models import AuditEvent, Branch, Organization
from clinicflow.marketing.selectors.audiences import audience_patients
from clinicflow.messaging.models import Kind, Message, Purpose, Status
from clinicflow.messaging.services import message_enqueue
from clinicflow.patients.models import ConsentMethod, ConsentPurpose, Patient
from clinicflow.patients.services import consent_record
from clinicflow.privacy.models import RequestKind, SubjectRequest
from clinicflow.privacy.rights.correct import granted_purposes
from clinicflow.privacy.tests.rights_world import NAME, seed

pytestmark = pytest.mark.django_db
BASE = "/api/v1/privacy/requests"


def _post(client: Client, right: str, body: dict[str, Any]) -> Any:
    return client.post(f"{BASE}/{right}", json.dumps(body), content_type="application/json")


@pytest.fixture
def patient(org: Organization, branch: Branch, users: dict[str, User]) -> Patient:
    return seed(org, branch, users["owner"])


def _flag_audits(org: Organization) -> list[AuditEvent]:
    events = AuditEvent.objects.for_org(org).filter(object_type="patient", action="update")
    return [e for e in events.order_by("at") if "restricted_at" in e.fields]


def _fresh(patient: Patient) -> Patient:
    return Patient.objects.get(pk=patient.pk)


def _enqueue(
    org: Organization, patient: Patient, kind: str, purpose: str = Purpose.SERVICE
) -> Message | None:
    with transaction.atomic():
        return message_enqueue(
            org=org,
            patient=_fresh(patient),
            channel="sms",
            kind=kind,
            context={
                "text": "hello",
                "headline": "h",
                "manage_url": "https://x.test/u",
                "service": "Peel",
                "doctor": "Dr Held",
                "branch": "Main",
                "start_local": "2 March 12:00",
            },
            purpose=purpose,
            dedupe_key=f"t:{kind}:{purpose}",
        )


def test_restriction_sets_the_flag_with_its_reason_and_audits_it(
    api: Callable[[str], Client], org: Organization, patient: Patient, users: dict[str, User]
) -> None:
    response = _post(
        api("manager"), "restriction", {"patient_id": str(patient.pk), "reason": "contests data"}
    )
    assert response.status_code == 201
    outcome = response.json()["outcome"]
    assert (outcome["restricted"], outcome["reason"], outcome["withdrawn"]) == (
        True,
        "contests data",
        ["marketing_sms"],
    )
    stored = _fresh(patient)
    assert stored.restricted_at is not None and stored.restriction_reason == "contests data"
    assert stored.last_name == NAME  # the records are kept
    (audit,) = _flag_audits(org)
    assert (audit.action, audit.actor_id, audit.fields) == (
        "update",
        users["manager"].pk,
        ["restricted_at", "restriction_reason"],
    )


def test_restricting_twice_is_a_conflict_and_changes_nothing(
    api: Callable[[str], Client], org: Organization, patient: Patient
) -> None:
    client = api("owner")
    assert _post(client, "restriction", {"patient_id": str(patient.pk), "reason": "first"}).status_code == 201
    since = _fresh(patient).restricted_at
    again = _post(client, "restriction", {"patient_id": str(patient.pk), "reason": "second"})
    assert again.status_code == 409
    assert (_fresh(patient).restricted_at, _fresh(patient).restriction_reason) == (since, "first")
    assert SubjectRequest.objects.for_org(org).filter(kind=RequestKind.RESTRICTION).count() == 1


def test_lifting_clears_the_flag_logs_the_reason_and_keeps_consents_withdrawn(
    api: Callable[[str], Client], org: Organization, patient: Patient
) -> None:
    client = api("manager")
    assert _post(client, "restriction/lift", {"patient_id": str(patient.pk)}).status_code == 409
    _post(client, "restriction", {"patient_id": str(patient.pk), "reason": "contests data"})
    response = _post(client, "restriction/lift", {"patient_id": str(patient.pk), "reason": "data verified"})
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["status"]) == ("restriction", "done")
    assert (body["outcome"]["lifted"], body["outcome"]["reason"]) == (True, "data verified")
    stored = _fresh(patient)
    assert (stored.restricted_at, stored.restriction_reason) == (None, "")
    assert granted_purposes(org, patient) == ["health_data"]  # given again only by the patient
    assert len(_flag_audits(org)) == 2


def test_a_restricted_patient_is_left_out_of_marketing_audiences_until_lifted(
    api: Callable[[str], Client], org: Organization, branch: Branch, users: dict[str, User], patient: Patient
) -> None:
    other = seed(org, branch, users["owner"], n=1)
    everyone = {patient.pk, other.pk}
    assert set(audience_patients(org=org, filters={}).values_list("pk", flat=True)) == everyone
    _post(api("owner"), "restriction", {"patient_id": str(patient.pk)})
    assert set(audience_patients(org=org, filters={}).values_list("pk", flat=True)) == {other.pk}
    # consent given again while restricted: still left out of the channel's audience
    consent_record(
        org=org,
        actor=users["owner"],
        patient=patient,
        purpose=ConsentPurpose.MARKETING_SMS,
        granted=True,
        method=ConsentMethod.WRITTEN,
    )
    assert patient.pk not in set(
        audience_patients(org=org, filters={"channel": "sms"}).values_list("pk", flat=True)
    )
    _post(api("owner"), "restriction/lift", {"patient_id": str(patient.pk)})
    assert patient.pk in set(
        audience_patients(org=org, filters={"channel": "sms"}).values_list("pk", flat=True)
    )


def test_messaging_refuses_non_essential_messages_while_restricted(
    api: Callable[[str], Client], org: Organization, patient: Patient, users: dict[str, User]
) -> None:
    _post(api("owner"), "restriction", {"patient_id": str(patient.pk)})
    consent_record(
        org=org,
        actor=users["owner"],
        patient=patient,
        purpose=ConsentPurpose.MARKETING_SMS,
        granted=True,
        method=ConsentMethod.WRITTEN,
    )
    before = Message.objects.for_org(org).count()
    for kind in (Kind.RECALL, Kind.SURVEY, Kind.THANK_YOU):
        assert _enqueue(org, patient, kind) is None
    assert _enqueue(org, patient, Kind.MARKETING, Purpose.MARKETING) is None
    assert Message.objects.for_org(org).count() == before
    reminder = _enqueue(org, patient, Kind.APPOINTMENT_REMINDER)
    assert reminder is not None and reminder.status == Status.QUEUED
    _post(api("owner"), "restriction/lift", {"patient_id": str(patient.pk)})
    assert _enqueue(org, patient, Kind.RECALL) is not None


def test_the_page_restricts_and_lifts_with_a_reason(
    org: Organization, patient: Patient, web: Callable[[str], Client]
) -> None:
    client = web("manager")
    form = {"patient": str(patient.pk), "action": "restrict", "reason": "objects to marketing"}
    done = client.post("/privacy/requests/", form)
    assert done.status_code == 302
    assert "objects to marketing" in client.get(done["Location"]).content.decode()
    assert _fresh(patient).restriction_reason == "objects to marketing"
    again = client.post("/privacy/requests/", form)
    assert again.status_code == 422
    lifted = client.post("/privacy/requests/", {**form, "action": "lift", "reason": "resolved"})
    assert lifted.status_code == 302
    assert _fresh(patient).restricted_at is None
    assert client.post("/privacy/requests/", {**form, "action": "lift"}).status_code == 422


def test_another_organisation_cannot_restrict_or_lift(
    api: Callable[[str], Client], org: Organization, patient: Patient
) -> None:
    for right in ("restriction", "restriction/lift"):
        assert _post(api("outsider"), right, {"patient_id": str(patient.pk)}).status_code == 404
    assert _fresh(patient).restricted_at is None
