"""Reads of the breach register. Every function takes the organisation first."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db.models import Count, Prefetch

from clinicflow.accounts.models import User
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import branch_list, parse_uuid
from clinicflow.patients.models import Patient, PatientPhone
from clinicflow.privacy.models import (
    AffectedPatient,
    AffectedSnapshot,
    Incident,
    IncidentDeadline,
    SubjectRequest,
)


@dataclass(frozen=True)
class IncidentRow:
    incident: Incident
    next_deadline: IncidentDeadline | None
    overdue: bool
    affected: int


def zone_branch(*, org: Organization) -> Branch | None:
    """The branch whose clock the register's pages use: the organisation's first active branch
    (None: UTC)."""
    branches = branch_list(org=org)
    return branches[0] if branches else None


def incident_get(*, org: Organization, incident_id: object) -> Incident:
    pk = parse_uuid(incident_id)
    incident = Incident.objects.for_org(org).filter(pk=pk).first() if pk else None
    if incident is None:
        raise NotFound("incident not found")
    return incident


def _affected_counts(org: Organization, incident_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = (
        AffectedPatient.objects.for_org(org)
        .filter(incident_id__in=incident_ids)
        .values("incident_id")
        .annotate(n=Count("patient_id", distinct=True))
    )
    return {row["incident_id"]: row["n"] for row in rows}


def incident_list(*, org: Organization, now: dt.datetime) -> list[IncidentRow]:
    """Every incident, newest discovery first, with its next pending deadline and affected count.
    Three queries whatever the number of incidents."""
    incidents = list(Incident.objects.for_org(org).order_by("-discovered_at", "-id"))
    ids = [i.pk for i in incidents]
    pending: dict[uuid.UUID, IncidentDeadline] = {}
    for d in (
        IncidentDeadline.objects.for_org(org)
        .filter(incident_id__in=ids, done_at__isnull=True)
        .order_by("due_at", "kind")
    ):
        pending.setdefault(d.incident_id, d)
    counts = _affected_counts(org, ids) if ids else {}
    out = []
    for incident in incidents:
        nxt = pending.get(incident.pk)
        out.append(
            IncidentRow(
                incident=incident,
                next_deadline=nxt,
                overdue=nxt is not None and nxt.is_overdue(now),
                affected=counts.get(incident.pk, 0),
            )
        )
    return out


def incident_deadlines(*, org: Organization, incident: Incident) -> list[IncidentDeadline]:
    return list(
        IncidentDeadline.objects.for_org(org)
        .filter(incident=incident)
        .select_related("done_by")
        .order_by("due_at", "kind")
    )


def incident_snapshots(*, org: Organization, incident: Incident) -> list[AffectedSnapshot]:
    return list(
        AffectedSnapshot.objects.for_org(org)
        .filter(incident=incident)
        .select_related("subject", "created_by")
        .order_by("created_at", "id")
    )


def affected_ids(*, org: Organization, incident: Incident) -> list[uuid.UUID]:
    """The distinct patients of all the incident's snapshots, in id order."""
    return list(
        AffectedPatient.objects.for_org(org)
        .filter(incident=incident)
        .order_by("patient_id")
        .values_list("patient_id", flat=True)
        .distinct()
    )


def affected_count(*, org: Organization, incident: Incident) -> int:
    """How many distinct patients the incident's snapshots hold."""
    return _affected_counts(org, [incident.pk]).get(incident.pk, 0)


def affected_patients(
    *, org: Organization, ids: list[uuid.UUID], with_phones: bool
) -> dict[uuid.UUID, Patient]:
    """The patients among ``ids`` that still exist (phones prefetched through the org-first index)."""
    qs = Patient.objects.for_org(org).filter(pk__in=ids)
    if with_phones:
        qs = qs.prefetch_related(Prefetch("phones", queryset=PatientPhone.objects.for_org(org)))
    return {p.pk: p for p in qs}


def staff_list(*, org: Organization) -> list[User]:
    """Every staff user of the organisation, the deactivated ones too (they may be the subject)."""
    return list(User.objects.filter(organization=org).order_by("email"))


def staff_get(*, org: Organization, user_id: object) -> User:
    pk = parse_uuid(user_id)
    user = User.objects.filter(organization=org, pk=pk).first() if pk else None
    if user is None:
        raise NotFound("staff user not found")
    return user


def request_get(*, org: Organization, request_id: object) -> SubjectRequest:
    """One data-subject request of ``org``."""
    pk = parse_uuid(request_id)
    row = SubjectRequest.objects.for_org(org).filter(pk=pk).first() if pk else None
    if row is None:
        raise NotFound("request not found")
    return row
