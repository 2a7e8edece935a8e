"""Recall lists: members in the list's order, contacts with outcomes, the 7/60-day results, marketing
consent for a recall message, and 404 for another organisation's list."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from clinicflow.booking.models import Appointment
from clinicflow.booking.tests.factories import make_patient
from clinicflow.care.models import RecallContact, RecallKind, RecallList
from clinicflow.care.selectors.recall import recall_members, recall_results, wilson
from clinicflow.care.services.generation import followups_generate_for
from clinicflow.care.services.plans import plans_ensure_defaults
from clinicflow.care.services.recall import recall_bookings_link, recall_lists_ensure
from clinicflow.care.tests.factories import done_visit, setup
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient, PatientPrediction

pytestmark = pytest.mark.django_db


def _lists(org: Organization) -> dict[str, RecallList]:
    recall_lists_ensure(org=org)
    return {rl.kind: rl for rl in RecallList.objects.for_org(org)}


def _predict(org: Organization, patient: Patient, clv: str, p_alive: float) -> None:
    PatientPrediction.objects.create(
        organization=org, patient=patient, p_alive=p_alive, expected_visits=1.0,
        expected_value=Decimal(clv), clv=Decimal(clv), currency="RUB", until=dt.date(2027, 1, 1),
    )  # fmt: skip


def test_wilson_interval_of_a_known_share() -> None:
    low, high = wilson(8, 100) or (0.0, 0.0)
    assert (round(low, 4), round(high, 4)) == (0.0411, 0.15)
    assert wilson(0, 0) is None


def test_lapsed_list_ranks_by_predicted_value_and_leaves_out_the_alive_and_the_recent(
    org: Organization, branch: Branch
) -> None:
    service, doctor, anna = setup(org, branch)
    now = timezone.now()
    boris = make_patient(org, phone="+79160000002", first_name="Boris")
    vera = make_patient(org, phone="+79160000003", first_name="Vera")
    gleb = make_patient(org, phone="+79160000004", first_name="Gleb")
    for p in (anna, boris, vera, gleb):
        done_visit(org, branch, p, service, doctor, now - dt.timedelta(days=300))
    done_visit(org, branch, gleb, service, doctor, now - dt.timedelta(days=20))  # came recently
    _predict(org, anna, "50000", 0.3)
    _predict(org, boris, "90000", 0.5)
    _predict(org, vera, "120000", 0.95)  # still alive: not lapsed
    _predict(org, gleb, "200000", 0.2)
    lapsed = _lists(org)[RecallKind.LAPSED]
    members = recall_members(org=org, rl=lapsed, now=now)
    assert [m.patient.first_name for m in members] == ["Boris", "Anna"]
    assert members[0].clv == Decimal("90000.00")


def test_a_due_maintenance_task_puts_the_patient_on_the_maintenance_list(
    org: Organization, branch: Branch
) -> None:
    service, doctor, anna = setup(org, branch)
    plans_ensure_defaults(org=org)
    now = timezone.now()
    appt = done_visit(
        org, branch, anna, service, doctor, now - dt.timedelta(days=118)
    )  # 4 months: in 2-4 days
    followups_generate_for(org=org, appointments=[appt])
    members = recall_members(org=org, rl=_lists(org)[RecallKind.MAINTENANCE], now=now)
    assert [m.patient.pk for m in members] == [anna.pk]
    assert members[0].due_on is not None and members[0].due_on > now.date()


def test_contacts_and_later_bookings_give_the_7_and_60_day_shares(
    org: Organization, branch: Branch, api: Callable[[str], Client]
) -> None:
    service, doctor, anna = setup(org, branch)
    boris = make_patient(org, phone="+79160000002", first_name="Boris")
    lapsed = _lists(org)[RecallKind.LAPSED]
    client = api("frontdesk")
    url = f"/api/v1/recall-lists/{lapsed.pk}/contacts"
    r = client.post(
        url, json.dumps({"patient": str(anna.pk), "outcome": "booked"}), content_type="application/json"
    )
    assert r.status_code == 201 and r.json()["booked_at"] is not None
    r = client.post(
        url, json.dumps({"patient": str(boris.pk), "outcome": "reached"}), content_type="application/json"
    )
    assert r.status_code == 201
    # Boris books ten days later: the worker links it (within 60 days, not within 7)
    contact = RecallContact.objects.for_org(org).get(patient=boris)
    contact.contacted_at = timezone.now() - dt.timedelta(days=10)
    contact.save(update_fields=["contacted_at"])
    later = done_visit(org, branch, boris, service, doctor, timezone.now() + dt.timedelta(days=3))
    Appointment.objects.for_org(org).filter(pk=later.pk).update(status="booked", created_at=timezone.now())
    assert recall_bookings_link(org=org, now=timezone.now()) == 1
    assert recall_bookings_link(org=org, now=timezone.now()) == 0
    result = next(r for r in recall_results(org=org) if r.recall_list.pk == lapsed.pk)
    assert (result.contacted, result.booked_7, result.booked_60) == (2, 1, 2)
    body = client.get("/api/v1/recall-lists").json()
    row = next(r for r in body if r["kind"] == "lapsed")
    assert (row["share_7"], row["share_60"]) == (0.5, 1.0)


def test_another_organisations_recall_list_is_404(
    org: Organization, other_org: Organization, api: Callable[[str], Client], web: Callable[[str], Client]
) -> None:
    theirs = _lists(other_org)[RecallKind.LAPSED]
    assert api("owner").get(f"/api/v1/recall-lists/{theirs.pk}").status_code == 404
    assert web("owner").get(f"/care/recall/{theirs.pk}/").status_code == 404
    r = api("owner").post(
        f"/api/v1/recall-lists/{theirs.pk}/contacts",
        json.dumps({"patient": str(make_patient(org).pk), "outcome": "reached"}),
        content_type="application/json",
    )
    assert r.status_code == 404
    assert RecallContact.objects.count() == 0


def test_the_recall_pages_list_the_lists_and_record_a_contact(
    org: Organization, branch: Branch, web: Callable[[str], Client]
) -> None:
    _, _, anna = setup(org, branch)
    client = web("frontdesk")
    assert client.post("/care/recall/setup/").status_code == 302
    page = client.get("/care/recall/")
    lapsed = _lists(org)[RecallKind.LAPSED]
    assert page.status_code == 200 and str(lapsed.pk) in page.content.decode()
    assert client.get(f"/care/recall/{lapsed.pk}/").status_code == 200
    r = client.post(f"/care/recall/{lapsed.pk}/contact/", {"patient": str(anna.pk), "outcome": "no_answer"})
    assert r.status_code == 302
    assert RecallContact.objects.for_org(org).get().outcome == "no_answer"
    assert web("doctor").get("/care/recall/").status_code == 403
