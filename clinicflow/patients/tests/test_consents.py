"""Consents are append-only events; the audience is decided by each patient's latest event (PR-01)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicflow.core.models import Organization
from clinicflow.patients.models import ConsentEvent, ConsentPurpose
from clinicflow.patients.selectors import consent_state, has_consent, patients_with_consent
from clinicflow.patients.services import consent_record
from clinicflow.patients.tests.factories import make_patient


def test_consent_events_are_append_only(org) -> None:
    patient = make_patient(org)
    event = consent_record(
        org=org,
        actor=None,
        patient=patient,
        purpose="marketing_sms",
        granted=True,
        method="web_form",
        template_text="I agree to SMS offers",
        template_version="v1",
    )
    assert len(event.text_sha256) == 64
    with pytest.raises(TypeError):
        ConsentEvent.objects.filter(pk=event.pk).update(kind="withdrawn")
    with pytest.raises(TypeError):
        ConsentEvent.objects.filter(pk=event.pk).delete()
    event.kind = "withdrawn"
    with pytest.raises(TypeError):
        event.save()


def test_withdrawal_is_one_event_and_wins(org) -> None:
    patient = make_patient(org)
    consent_record(
        org=org, actor=None, patient=patient, purpose="marketing_sms", granted=True, method="web_form"
    )
    assert has_consent(org=org, patient_id=patient.pk, purpose="marketing_sms")
    consent_record(
        org=org, actor=None, patient=patient, purpose="marketing_sms", granted=False, method="web_form"
    )
    assert not has_consent(org=org, patient_id=patient.pk, purpose="marketing_sms")
    assert consent_state(org=org, patient=patient)["marketing_sms"].kind == "withdrawn"
    assert ConsentEvent.objects.filter(patient=patient).count() == 2


def test_an_unknown_purpose_is_a_422_naming_the_field(api, users, org) -> None:
    patient = make_patient(org)
    response = api("frontdesk").post(
        f"/api/v1/patients/{patient.pk}/consents",
        {"purpose": "sell_my_data", "granted": True, "method": "web_form"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "purpose" in response.json()["error"]["fields"]
    assert ConsentEvent.objects.count() == 0


histories = st.lists(
    st.lists(st.tuples(st.sampled_from(["marketing_sms", "marketing_email"]), st.booleans()), max_size=5),
    min_size=1,
    max_size=6,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories=histories)
def test_audience_equals_patients_whose_latest_event_is_a_grant(org: Organization, histories) -> None:
    ConsentEvent.objects.filter(organization=org)  # fresh patients each example
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    expected = set()
    tag = ConsentEvent.objects.count()
    patients = []
    for i, history in enumerate(histories):
        patient = make_patient(org, last_name=f"P{tag}-{i}", phones=[])
        patients.append(patient)
        latest = None
        for j, (purpose, granted) in enumerate(history):
            consent_record(
                org=org,
                actor=None,
                patient=patient,
                purpose=purpose,
                granted=granted,
                method="web_form",
                at=base + dt.timedelta(minutes=j),
            )
            if purpose == ConsentPurpose.MARKETING_SMS:
                latest = granted
        if latest:
            expected.add(patient.pk)
    ids = {p.pk for p in patients}
    audience = set(
        patients_with_consent(org=org, purpose="marketing_sms")
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
    assert audience == expected
