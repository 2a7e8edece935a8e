"""AC-01 for the FHIR API: every FHIR route that takes an id, asked with each staff role's bearer
token for an object of another organisation, answers 404 (or 403 where the role is refused before
any lookup) and shows none of its values. The objects are the core tenant matrix's own world."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import URLPattern

from clinicflow.booking.models import DoctorBranch
from clinicflow.booking.tests.factories import local, next_weekday
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization
from clinicflow.core.tests.test_tenant_matrix import STAFF_ROLES, _leaks, _other_world
from clinicflow.fhir import urls
from clinicflow.fhir.mapping.common import slot_id

pytestmark = pytest.mark.django_db


def _routes() -> list[tuple[str, list[str]]]:
    return [
        (str(p.pattern), list(p.pattern.converters))
        for p in urls.urlpatterns
        if isinstance(p, URLPattern) and p.pattern.converters  # type: ignore[attr-defined]
    ]


def _fhir_ids(
    other_org: Organization, other_branch: Branch, branch: Branch
) -> tuple[dict[str, str], list[str]]:
    world = _other_world(other_org, other_branch, branch)
    schedule = DoctorBranch.objects.get(organization=other_org, doctor_id=world.ids["doctor_id"])
    service = Service.objects.get(organization=other_org, pk=world.ids["service_id"])
    free = local(other_branch, next_weekday(3), 14)  # not the day of the world's holiday
    ids = {
        "patient_id": world.ids["patient_id"],
        "appointment_id": world.ids["appointment_id"],
        "doctor_id": world.ids["doctor_id"],
        "schedule_id": str(schedule.pk),
        "slot_id": slot_id(schedule.pk, service.pk, free),
    }
    return ids, world.values


def test_every_fhir_route_taking_an_id_answers_404_for_another_organisations_object(
    api: Callable[[str], Client],
    org: Organization,
    branch: Branch,
    other_org: Organization,
    other_branch: Branch,
) -> None:
    ids, values = _fhir_ids(other_org, other_branch, branch)
    routes = _routes()
    assert len(routes) == 5
    unmapped = [f"{route} {name}" for route, names in routes for name in names if name not in ids]
    assert unmapped == [], "map these FHIR route parameters to an object of the other organisation"
    failures = []
    for role in STAFF_ROLES:
        client = api(role)
        for route, names in routes:
            url = "/fhir/r4/" + route
            for name in names:
                url = url.replace(f"<str:{name}>", ids[name])
            response = client.get(url, HTTP_ACCEPT="application/fhir+json")
            if response.status_code not in (403, 404):
                failures.append(f"{role} GET {url}: {response.status_code}")
            leaked = _leaks(response.content.decode(), values)
            if leaked:
                failures.append(f"{role} GET {url}: shows {leaked}")
    assert failures == []


def test_the_same_routes_answer_200_for_the_organisations_own_objects(
    api: Callable[[str], Client],
    other_org: Organization,
    other_branch: Branch,
    branch: Branch,
    users: dict[str, object],
) -> None:
    """The 404s above are about the organisation, not about the ids: its own owner reads each one."""
    ids, _ = _fhir_ids(other_org, other_branch, branch)
    client = api("outsider")  # the owner of other_org
    for route, names in _routes():
        url = "/fhir/r4/" + route
        for name in names:
            url = url.replace(f"<str:{name}>", ids[name])
        assert client.get(url).status_code == 200, url
