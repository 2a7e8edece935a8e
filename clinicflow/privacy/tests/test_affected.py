"""PR-05: an audit-log query over a user and a time window returns exactly the patients touched.

The audit rows are made by driving the real pages and API as staff users (opening cards, editing,
booking, recording a consent, a refused merge), inside and outside the window and as another user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver
from freezegun import freeze_time

from clinicflow.accounts.models import User
from clinicflow.booking import services as booking
from clinicflow.booking.tests.factories import make_doctor, make_patient, make_room, make_service
from clinicflow.core.models import Branch, Organization
from clinicflow.patients.models import Patient
from clinicflow.privacy.affected import patients_touched
from clinicflow.privacy.models import AffectedPatient, AffectedSnapshot
from clinicflow.privacy.tests.factories import make_incident

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 2)  # a Monday
START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 3, 2, 11, 0, tzinfo=dt.UTC)


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, 2, hour, minute, tzinfo=dt.UTC)


@dataclass
class World:
    patients: dict[str, Patient]
    frontdesk: User
    doctor: User


def _edit(client: Client, patient: Patient) -> None:
    response = client.post(
        f"/patients/{patient.pk}/edit/",
        {
            "last_name": patient.last_name,
            "first_name": patient.first_name,
            "sex": "F",
            "phones": "",
            "preferred_language": "en",
            "source": "other",
        },
    )
    assert response.status_code == 302


def _drive(
    web: Callable[[str], Client],
    api: Callable[[str], Client],
    org: Organization,
    branch: Branch,
    outsider: Patient,
) -> dict[str, Patient]:
    """Every staff action of the day, each at its own frozen time; returns the patients by name."""
    # the URLconf (and the API's schemas, which name datetime) is loaded before time is frozen: under
    # freezegun a first load would see its FakeDatetime and pydantic would refuse it
    assert get_resolver().url_patterns
    with freeze_time(at(8)) as clock:
        laser = make_service(org)
        room = make_room(org, branch)
        doctor = make_doctor(org, branch, [laser])
        p = {
            n: make_patient(org, last_name=f"Patient{n}", phone=f"+7916000000{i}")
            for i, n in enumerate("12345678")
        }
        token_client = api("frontdesk")  # the token is issued before the window

        def as_(persona: str, when: dt.datetime) -> Client:
            clock.move_to(when)
            return web(persona)  # a fresh session at each step: the idle timeout never interferes

        assert as_("frontdesk", at(9)).get(f"/patients/{p['1'].pk}/").status_code == 200  # before the window
        # --- the window [10:00, 11:00) ---
        assert as_("frontdesk", at(10, 5)).get(f"/patients/{p['2'].pk}/").status_code == 200
        _edit(as_("frontdesk", at(10, 10)), p["3"])
        booked = as_("frontdesk", at(10, 15)).post(
            "/booking/book/",
            {
                "branch": str(branch.pk),
                "patient": str(p["4"].pk),
                "service": str(laser.pk),
                "doctor": str(doctor.pk),
                "room": str(room.pk),
                "start": "2026-03-09T10:00",
            },
        )
        assert booked.status_code == 302
        consent = {"purpose": "marketing_sms", "granted": "1", "method": "written", "evidence": "form 7"}
        assert (
            as_("frontdesk", at(10, 20)).post(f"/patients/{p['5'].pk}/consents/", consent).status_code == 302
        )
        assert as_("frontdesk", at(10, 25)).get("/patients/").status_code == 200  # a list: names no patient
        clock.move_to(at(10, 30))
        assert token_client.get(f"/api/v1/patients/{p['6'].pk}").status_code == 200
        refused = as_("frontdesk", at(10, 35)).post(
            f"/patients/{p['7'].pk}/merge/", {"merge_id": str(p["8"].pk)}
        )
        assert refused.status_code == 403  # audited as denied: nothing was shown
        assert as_("doctor", at(10, 40)).get(f"/patients/{p['8'].pk}/").status_code == 200  # another user
        assert as_("frontdesk", at(10, 45)).get(f"/patients/{outsider.pk}/").status_code == 404
        # --- after the window (its end is excluded) ---
        assert as_("frontdesk", at(11)).get(f"/patients/{p['8'].pk}/").status_code == 200
        assert as_("frontdesk", at(12)).get(f"/patients/{p['1'].pk}/").status_code == 200
    return p


@pytest.fixture
def world(
    web: Callable[[str], Client],
    api: Callable[[str], Client],
    org: Organization,
    branch: Branch,
    other_org: Organization,
    users: dict[str, User],
) -> World:
    outsider = make_patient(other_org, last_name="Wangsecret", phone="+8613912345678")
    patients = _drive(web, api, org, branch, outsider)
    return World(patients=patients, frontdesk=users["frontdesk"], doctor=users["doctor"])


def _names(org: Organization, ids: frozenset[Any] | set[Any]) -> set[str]:
    return set(Patient.objects.for_org(org).filter(pk__in=ids).values_list("last_name", flat=True))


def test_the_query_returns_exactly_the_patients_the_user_touched_in_the_window(
    org: Organization, world: World
) -> None:
    touched = patients_touched(org=org, actor_id=world.frontdesk.pk, start=START, end=END)
    # opened (page), edited (page), booked (appointment), consent recorded, opened through the API
    assert _names(org, touched.patient_ids) == {"Patient2", "Patient3", "Patient4", "Patient5", "Patient6"}
    assert touched.uncovered == 1  # the patient list
    assert touched.by_type == {"patient": 3, "appointment": 1, "consent": 1}


def test_another_user_and_other_windows_give_their_own_exact_sets(org: Organization, world: World) -> None:
    doctor = patients_touched(org=org, actor_id=world.doctor.pk, start=START, end=END)
    assert _names(org, doctor.patient_ids) == {"Patient8"}
    day = patients_touched(org=org, actor_id=world.frontdesk.pk, start=at(0), end=at(23))
    assert _names(org, day.patient_ids) == {f"Patient{n}" for n in "1234568"}  # 7: the merge was refused
    before = patients_touched(org=org, actor_id=world.frontdesk.pk, start=at(8, 30), end=START)
    assert _names(org, before.patient_ids) == {"Patient1"}


def test_the_query_never_reaches_another_organisation(
    org: Organization, other_org: Organization, world: World
) -> None:
    assert (
        patients_touched(org=other_org, actor_id=world.frontdesk.pk, start=at(0), end=at(23)).patient_ids
        == set()
    )


def test_waitlist_rows_and_rows_naming_the_patient_map_back_to_the_patient(
    org: Organization, branch: Branch, users: dict[str, User], api: Callable[[str], Client]
) -> None:
    frontdesk = users["frontdesk"]
    with freeze_time(at(10)):
        laser = make_service(org)
        a, b = (
            make_patient(org, last_name="Waiting"),
            make_patient(org, last_name="Consenting", phone="+79160000009"),
        )
        booking.waitlist_add(
            org=org, actor=frontdesk, branch=branch, patient=a, service=laser, date_from=DAY, date_to=DAY
        )
        assert api("frontdesk").get(f"/api/v1/patients/{b.pk}/consents").status_code == 200
    touched = patients_touched(org=org, actor_id=frontdesk.pk, start=START, end=END)
    assert _names(org, touched.patient_ids) == {"Waiting", "Consenting"}


def test_owner_previews_attaches_lists_and_exports_the_affected_patients(
    web: Callable[[str], Client], org: Organization, world: World
) -> None:
    with freeze_time(at(14)):
        incident = make_incident(org, discovered_at=at(13))
        owner = web("owner")
        # the branch is in Moscow (UTC+3): the window is typed on its clock
        query = {"subject": str(world.frontdesk.pk), "start": "2026-03-02T13:00", "end": "2026-03-02T14:00"}
        preview = owner.get(f"/privacy/incidents/{incident.pk}/", query)
        assert preview.status_code == 200
        assert "5 patients touched" in preview.content.decode()
        assert not AffectedSnapshot.objects.for_org(org).exists()
        attached = owner.post(f"/privacy/incidents/{incident.pk}/affected/attach/", query)
        assert attached.status_code == 302
    snapshot = AffectedSnapshot.objects.for_org(org).get()
    assert (snapshot.window_start, snapshot.window_end, snapshot.patient_count) == (START, END, 5)
    stored = set(
        AffectedPatient.objects.for_org(org).filter(incident=incident).values_list("patient_id", flat=True)
    )
    expected = {world.patients[n].pk for n in "23456"}
    assert stored == expected
    owner = web("owner")
    page = owner.get(f"/privacy/incidents/{incident.pk}/affected/").content.decode()
    assert [n for n in (f"Patient{i}" for i in range(1, 9)) if n in page] == [f"Patient{n}" for n in "23456"]
    assert "+79160000001" in page  # Patient2's phone: the owner may see contacts
    csv = owner.get(f"/privacy/incidents/{incident.pk}/affected.csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "patient_id,last_name,first_name,middle_name,email,phones"
    assert {line.split(",")[0] for line in lines[1:]} == {str(pk) for pk in expected}


def test_opening_an_affected_list_counts_as_touching_its_patients(
    web: Callable[[str], Client], org: Organization, world: World, users: dict[str, User]
) -> None:
    incident = make_incident(org, discovered_at=at(13))
    with freeze_time(at(14)):
        manager = web("manager")
        query = {"subject": str(world.frontdesk.pk), "start": "2026-03-02T13:00", "end": "2026-03-02T14:00"}
        assert manager.post(f"/privacy/incidents/{incident.pk}/affected/attach/", query).status_code == 302
    with freeze_time(at(15)):
        assert web("owner").get(f"/privacy/incidents/{incident.pk}/affected/").status_code == 200
    seen = patients_touched(org=org, actor_id=users["owner"].pk, start=at(15), end=at(16))
    assert seen.patient_ids == {world.patients[n].pk for n in "23456"}
    # attaching showed a count, not the patients
    attacher = patients_touched(org=org, actor_id=users["manager"].pk, start=at(14), end=at(15))
    assert attacher.patient_ids == set()
