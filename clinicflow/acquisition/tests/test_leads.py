"""Web leads whose contact matches a patient card are flagged for the front desk, never attached
automatically; a person confirms ("it is this patient") or dismisses the match, audited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinicflow.acquisition import defaults
from clinicflow.acquisition.models import Lead, LeadMatch
from clinicflow.acquisition.tracking.services import lead_create
from clinicflow.core.models import AuditEvent
from clinicflow.patients.models import Patient
from clinicflow.patients.services import PatientData, patient_create

pytestmark = pytest.mark.django_db


def _patient(org: Any, phone: str = "+7 903 111 22 33", email: str = "") -> Patient:
    return patient_create(
        org=org,
        actor=None,
        data=PatientData(last_name="Ivanova", first_name="Anna", phones=[phone], email=email),
    )


def _post_lead(org: Any, **fields: str) -> Lead:
    key = defaults.tracking_settings(org=org).public_key
    body = {"k": key, "name": "Somebody", **fields}
    response = Client().post("/t/lead", data=json.dumps(body), content_type="text/plain")
    assert response.status_code == 201, response.content
    return Lead.objects.for_org(org).get(pk=response.json()["id"])


def test_a_lead_naming_a_patients_phone_is_flagged_as_a_possible_match_not_attached(
    org: Any, branch: Any
) -> None:
    anna = _patient(org)
    lead = _post_lead(org, phone="+79031112233")
    assert (lead.match, lead.possible_patient_id, lead.patient_id) == (LeadMatch.POSSIBLE, anna.pk, None)
    by_email = _post_lead(org, email="nobody@example.org")
    assert (by_email.match, by_email.possible_patient_id) == (LeadMatch.NONE, None)


def test_a_lead_naming_a_patients_email_is_flagged(org: Any, branch: Any) -> None:
    anna = _patient(org, phone="+79031110000", email="anna@example.org")
    lead = _post_lead(org, email="anna@example.org")
    assert (lead.match, lead.possible_patient_id, lead.patient_id) == (LeadMatch.POSSIBLE, anna.pk, None)


def test_another_organisations_patient_is_never_a_match(org: Any, other_org: Any, branch: Any) -> None:
    _patient(other_org, phone="+79031112233")
    lead = _post_lead(org, phone="+79031112233")
    assert (lead.match, lead.possible_patient_id) == (LeadMatch.NONE, None)


def test_the_front_desk_sees_the_possible_match_and_confirms_it(org: Any, branch: Any, web: Any) -> None:
    anna = _patient(org)
    lead = _post_lead(org, phone="+79031112233")
    frontdesk = web("frontdesk")
    page = frontdesk.get("/acquisition/leads/?match=possible")
    body = page.content.decode()
    assert page.status_code == 200
    assert (
        "Possible match" in body
        and "Ivanova Anna" in body
        and f"/acquisition/leads/{lead.pk}/confirm/" in body
    )
    r = frontdesk.post(f"/acquisition/leads/{lead.pk}/confirm/")
    assert r.status_code == 302
    lead.refresh_from_db()
    assert (lead.match, lead.patient_id) == (LeadMatch.CONFIRMED, anna.pk)
    assert lead.matched_by is not None and lead.matched_by.email == "frontdesk@demo.test"
    event = AuditEvent.objects.filter(object_type="lead", object_id=str(lead.pk)).get()
    assert (event.action, event.fields) == ("update", ["match", "matched_at", "matched_by", "patient"])
    # decided once: a second decision changes nothing
    frontdesk.post(f"/acquisition/leads/{lead.pk}/dismiss/")
    lead.refresh_from_db()
    assert (lead.match, lead.patient_id) == (LeadMatch.CONFIRMED, anna.pk)
    assert AuditEvent.objects.filter(object_type="lead", object_id=str(lead.pk)).count() == 1


def test_the_front_desk_dismisses_a_match_and_nothing_is_linked(org: Any, branch: Any, web: Any) -> None:
    _patient(org)
    lead = _post_lead(org, phone="+79031112233")
    assert web("manager").post(f"/acquisition/leads/{lead.pk}/dismiss/").status_code == 302
    lead.refresh_from_db()
    assert (lead.match, lead.patient_id) == (LeadMatch.DISMISSED, None)
    assert AuditEvent.objects.filter(object_type="lead", object_id=str(lead.pk), action="update").exists()


def test_only_the_front_desk_roles_of_the_organisation_decide(org: Any, branch: Any, web: Any) -> None:
    _patient(org)
    lead = _post_lead(org, phone="+79031112233")
    assert web("marketer").get("/acquisition/leads/").status_code == 403
    assert web("doctor").post(f"/acquisition/leads/{lead.pk}/confirm/").status_code == 403
    assert web("outsider").post(f"/acquisition/leads/{lead.pk}/confirm/").status_code == 404
    lead.refresh_from_db()
    assert (lead.match, lead.patient_id, lead.matched_by_id) == (LeadMatch.POSSIBLE, None, None)


def test_the_leads_page_has_a_fixed_number_of_queries(org: Any, branch: Any, web: Any) -> None:
    _patient(org)
    client = web("frontdesk")

    def count() -> int:
        with CaptureQueriesContext(connection) as q:
            assert client.get("/acquisition/leads/").status_code == 200
        return len(q)

    lead_create(org=org, session=None, name="A", phone="+79031112233")
    count()  # the first request of a session does some one-off work
    few = count()
    for n in range(10):
        lead_create(org=org, session=None, name=f"B{n}", phone=f"+7903111220{n}")
    assert count() == few
