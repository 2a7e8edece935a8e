"""Audiences: filters counted live, an unknown field refused (422, nothing stored), the recall preset,
and PR-01's property: the audience of a channel is exactly the patients whose latest event for it is a grant."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicflow.booking.models import Appointment
from clinicflow.booking.tests.factories import make_doctor, make_room, make_service
from clinicflow.core.models import Branch, Organization
from clinicflow.marketing.models import Audience
from clinicflow.marketing.selectors.audiences import RECALL_BOTULINUM, audience_count, audience_patients
from clinicflow.marketing.tests.factories import consent, patient
from clinicflow.patients.models import ConsentEvent, Patient, PatientPrediction

pytestmark = pytest.mark.django_db


def _visit(
    org: Organization,
    branch: Branch,
    p: Patient,
    service: object,
    doctor: object,
    days_ago: int,
    status: str = "done",
) -> None:
    start = timezone.now() - dt.timedelta(days=days_ago)
    Appointment.objects.create(
        organization=org,
        branch=branch,
        patient=p,
        service=service,
        doctor=doctor,
        start_at=start,
        end_at=start + dt.timedelta(hours=1),
        busy_until=start + dt.timedelta(hours=1),
        status=status,
        price=Decimal("10000"),
        currency="RUB",
    )


def test_unknown_or_bad_filters_are_422_and_store_nothing(
    api: Callable[[str], Client], org: Organization
) -> None:
    client = api("marketer")
    for filters, field in (
        ({"shoe_size": 40}, "filters.shoe_size"),
        ({"age_min": "old"}, "filters.age_min"),
        ({"sex": "X"}, "filters.sex"),
        ({"nps": 9}, "filters.nps"),
    ):
        r = client.post(
            "/api/v1/audiences",
            json.dumps({"name": "A", "filters": filters}),
            content_type="application/json",
        )
        assert r.status_code == 422 and field in r.json()["error"]["fields"], r.content
        r = client.post(
            "/api/v1/audiences/count", json.dumps({"filters": filters}), content_type="application/json"
        )
        assert r.status_code == 422
    assert not Audience.objects.for_org(org).exists()


def test_filters_and_the_recall_preset(
    api: Callable[[str], Client], org: Organization, branch: Branch
) -> None:
    botox = make_service(org, code="botox", category="botulinum", room_type="treatment", name="Botox")
    make_room(org, branch, "T1", "treatment")
    doctor = make_doctor(org, branch, [botox])
    due = patient(org, 1, sex="F", birth_date=dt.date(1990, 1, 1))
    recent = patient(org, 2, sex="F", birth_date=dt.date(1990, 1, 1))
    rebooked = patient(org, 3, sex="M", birth_date=dt.date(1960, 1, 1))
    patient(org, 4)  # never visited
    _visit(org, branch, due, botox, doctor, 200)
    _visit(org, branch, recent, botox, doctor, 30)
    _visit(org, branch, rebooked, botox, doctor, 200)
    _visit(org, branch, rebooked, botox, doctor, -5, status="booked")  # booked again since
    assert set(audience_patients(org=org, filters=RECALL_BOTULINUM)) == {due}
    assert audience_count(org=org, filters={"last_visit_before_days": 150}) == 2
    assert audience_count(org=org, filters={"had_services": ["botox"], "sex": "F"}) == 2
    assert audience_count(org=org, filters={"not_had_services": ["botox"]}) == 1
    assert audience_count(org=org, filters={"age_min": 50}) == 1
    assert audience_count(org=org, filters={"age_max": 40, "had_services": ["botox"]}) == 2
    PatientPrediction.objects.create(
        organization=org,
        patient=due,
        p_alive=0.3,
        expected_visits=1,
        expected_value=1,
        clv=Decimal("500"),
        currency="RUB",
        until=dt.date.today(),
    )
    assert audience_count(org=org, filters={"p_alive_max": 0.5}) == 1
    r = api("marketer").post(
        "/api/v1/audiences",
        json.dumps({"name": "Recall", "filters": RECALL_BOTULINUM}),
        content_type="application/json",
    )
    assert r.status_code == 201 and r.json()["count"] == 1


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories=st.lists(st.lists(st.sampled_from(["g", "w", "e"]), max_size=4), min_size=1, max_size=6))
def test_the_channel_audience_is_the_latest_grant(org: Organization, histories: list[list[str]]) -> None:
    ConsentEvent.objects.for_org(org).all()._raw_delete(ConsentEvent.objects.db)  # type: ignore[attr-defined]
    expected = set()
    for i, history in enumerate(histories):
        p = Patient.objects.for_org(org).filter(first_name=f"P{i}").first() or patient(org, i, granted=None)
        for event in history:
            consent(
                org, p, purpose="marketing_email" if event == "e" else "marketing_sms", granted=event != "w"
            )
        sms = [e for e in history if e != "e"]
        if sms and sms[-1] == "g":
            expected.add(p.pk)
    got = {
        p.pk for p in audience_patients(org=org, filters={"channel": "sms"}) if p.first_name.startswith("P")
    }
    assert got == set(expected)
