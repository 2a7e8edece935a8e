"""PR-05: creating an incident computes the right deadlines for each tenant's jurisdiction; the
"done" records, overdue deadlines and validation that names the field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditEvent, Organization, Region
from clinicflow.core.services import organization_create
from clinicflow.privacy import selectors, services
from clinicflow.privacy.jurisdictions import jurisdictions_for
from clinicflow.privacy.models import IncidentDeadline, IncidentStatus
from clinicflow.privacy.services import IncidentDetails
from clinicflow.privacy.tests.factories import make_incident

pytestmark = pytest.mark.django_db

DISCOVERED = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def _org(slug: str, country: str, region: str) -> Organization:
    return organization_create(
        name=slug.title(), slug=slug, country=country, currency="EUR", data_region=region
    )


def _deadlines(incident: Any) -> list[tuple[str, str, dt.datetime]]:
    return [
        (d.jurisdiction, d.kind, d.due_at)
        for d in IncidentDeadline.objects.for_org(incident.organization)
        .filter(incident=incident)
        .order_by("due_at", "kind")
    ]


@pytest.mark.parametrize(
    ("country", "region", "jurisdictions", "expected"),
    [
        ("DE", Region.EU, ["EU"], [("EU", "eu_authority", 72 * H)]),
        ("RU", Region.RU, ["RU"], [("RU", "ru_initial", 24 * H), ("RU", "ru_followup", 72 * H)]),
        ("CN", Region.CN, ["CN"], [("CN", "cn_immediate", 0 * H)]),
        ("US", Region.OTHER, [], []),
        # the country alone brings its law in; so does the data region alone
        ("FR", Region.OTHER, ["EU"], [("EU", "eu_authority", 72 * H)]),
        ("KZ", Region.RU, ["RU"], [("RU", "ru_initial", 24 * H), ("RU", "ru_followup", 72 * H)]),
        ("NO", Region.OTHER, ["EU"], [("EU", "eu_authority", 72 * H)]),
    ],
)
def test_creating_an_incident_computes_the_deadlines_of_the_tenants_jurisdiction(
    country: str, region: str, jurisdictions: list[str], expected: list[tuple[str, str, dt.timedelta]]
) -> None:
    org = _org(f"clinic-{country.lower()}", country, region)
    assert jurisdictions_for(org) == jurisdictions
    incident = make_incident(org, discovered_at=DISCOVERED)
    assert incident.jurisdictions == jurisdictions
    assert _deadlines(incident) == [(j, kind, DISCOVERED + after) for j, kind, after in expected]


def test_deadlines_are_those_of_every_tenant_not_of_the_first(db: Any) -> None:
    """Two tenants in one database: each incident gets its own organisation's deadlines."""
    eu, cn = _org("berlin", "DE", Region.EU), _org("shanghai", "CN", Region.CN)
    a, b = make_incident(eu, discovered_at=DISCOVERED), make_incident(cn, discovered_at=DISCOVERED)
    assert [k for _, k, _ in _deadlines(a)] == ["eu_authority"]
    assert [k for _, k, _ in _deadlines(b)] == ["cn_immediate"]


def test_jurisdictions_chosen_on_the_incident_override_the_derived_ones(org: Organization) -> None:
    incident = make_incident(org, discovered_at=DISCOVERED, jurisdictions=["CN", "EU", "RU"])
    assert incident.jurisdictions == ["EU", "RU", "CN"]
    assert [(k, due - DISCOVERED) for _, k, due in _deadlines(incident)] == [
        ("cn_immediate", 0 * H),
        ("ru_initial", 24 * H),
        ("eu_authority", 72 * H),
        ("ru_followup", 72 * H),
    ]


def test_a_chinese_deadline_is_overdue_at_once_and_the_eu_one_after_72_hours(
    org: Organization, users: Any
) -> None:
    incident = make_incident(org, discovered_at=DISCOVERED, jurisdictions=["EU", "CN"])
    rows = {d.kind: d for d in selectors.incident_deadlines(org=org, incident=incident)}
    assert rows["cn_immediate"].is_overdue(DISCOVERED + dt.timedelta(seconds=1))
    assert not rows["eu_authority"].is_overdue(DISCOVERED + 72 * H)
    assert rows["eu_authority"].is_overdue(DISCOVERED + 72 * H + dt.timedelta(seconds=1))
    [row] = selectors.incident_list(org=org, now=DISCOVERED + H)
    assert (row.next_deadline.kind, row.overdue) == ("cn_immediate", True)


def test_changing_the_discovery_moves_the_deadlines_and_a_done_one_survives_its_jurisdiction(
    org: Organization, users: Any
) -> None:
    owner = users["owner"]
    incident = make_incident(org, discovered_at=DISCOVERED)  # RU: 24 h + 72 h
    services.deadline_mark_done(
        org=org,
        actor=owner,
        incident=incident,
        kind="ru_initial",
        done_at=DISCOVERED + 2 * H,
        reference="RKN-1",
    )
    earlier = DISCOVERED - 5 * H
    details = IncidentDetails(title=incident.title, discovered_at=earlier, facts=incident.facts)
    services.incident_update(org=org, actor=owner, incident=incident, details=details, jurisdictions=["EU"])
    assert _deadlines(incident) == [
        ("RU", "ru_initial", DISCOVERED + 24 * H),  # done: kept as it was, with its record
        ("EU", "eu_authority", earlier + 72 * H),  # ru_followup, not done, is gone
    ]
    event = AuditEvent.objects.for_org(org).filter(object_type="incident", action="update").get()
    assert event.fields == ["deadlines", "discovered_at", "jurisdictions"]


def test_recording_every_notification_marks_the_incident_notified_and_is_audited(
    org: Organization, users: Any
) -> None:
    manager = users["manager"]
    incident = make_incident(org, discovered_at=DISCOVERED)
    services.deadline_mark_done(
        org=org,
        actor=manager,
        incident=incident,
        kind="ru_initial",
        done_at=DISCOVERED + 3 * H,
        reference="N 17",
    )
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.OPEN
    done = services.deadline_mark_done(
        org=org,
        actor=manager,
        incident=incident,
        kind="ru_followup",
        done_at=DISCOVERED + 50 * H,
        reference="",
    )
    assert (done.done_at, done.done_by, done.reference) == (DISCOVERED + 50 * H, manager, "")
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.NOTIFIED
    rows = AuditEvent.objects.for_org(org).filter(actor=manager).order_by("at", "id")
    assert [(r.object_type, r.fields) for r in rows] == [
        ("incident_deadline", ["done_at", "done_by", "recorded_at", "reference"]),
        ("incident_deadline", ["done_at", "done_by", "recorded_at", "reference"]),
        ("incident", ["status", "updated_at"]),
    ]


@pytest.mark.parametrize(
    ("kind", "done_at", "field"),
    [
        ("eu_authority", DISCOVERED + H, "kind"),  # the RU tenant owes no EU notice
        ("nonsense", DISCOVERED + H, "kind"),
        ("ru_initial", DISCOVERED - H, "done_at"),
        ("ru_initial", timezone.now() + 24 * H, "done_at"),
    ],
)
def test_a_wrong_done_record_names_the_field_and_changes_nothing(
    org: Organization, users: Any, kind: str, done_at: dt.datetime, field: str
) -> None:
    incident = make_incident(org, discovered_at=DISCOVERED)
    with pytest.raises(ValidationFailed) as exc:
        services.deadline_mark_done(
            org=org, actor=users["owner"], incident=incident, kind=kind, done_at=done_at, reference=""
        )
    assert list(exc.value.fields) == [field]
    assert not IncidentDeadline.objects.for_org(org).filter(done_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"facts": ""}, "facts"),
        ({"occurred_from": DISCOVERED + H}, "occurred_from"),
        ({"occurred_from": DISCOVERED - 5 * H, "occurred_to": DISCOVERED - 6 * H}, "occurred_to"),
        ({"discovered_at": timezone.now() + 48 * H}, "discovered_at"),
        ({"status": "forgotten"}, "status"),
        ({"data_categories": ("health", "gossip")}, "data_categories"),
    ],
)
def test_an_invalid_incident_names_the_field_and_is_not_stored(
    org: Organization, changes: dict[str, Any], field: str
) -> None:
    values: dict[str, Any] = {"title": "Leak", "discovered_at": DISCOVERED, "facts": "Lost files.", **changes}
    with pytest.raises(ValidationFailed) as exc:
        services.incident_create(org=org, actor=None, details=IncidentDetails(**values))
    assert list(exc.value.fields) == [field]
    assert selectors.incident_list(org=org, now=DISCOVERED) == []


def test_an_unknown_jurisdiction_is_refused(org: Organization) -> None:
    with pytest.raises(ValidationFailed) as exc:
        make_incident(org, jurisdictions=["US"])
    assert list(exc.value.fields) == ["jurisdictions"]
