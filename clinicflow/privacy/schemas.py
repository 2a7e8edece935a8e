"""API schemas of the breach register."""

import datetime as dt
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict

from clinicflow.privacy.models import Incident, IncidentDeadline
from clinicflow.privacy.selectors import IncidentRow
from clinicflow.privacy.services import MAX_TEXT, IncidentDetails


class IncidentIn(Schema):
    model_config = ConfigDict(extra="ignore")

    title: str = Field(..., max_length=200)
    discovered_at: dt.datetime
    occurred_from: dt.datetime | None = None
    occurred_to: dt.datetime | None = None
    facts: str = Field(..., max_length=MAX_TEXT)
    effects: str = Field("", max_length=MAX_TEXT)
    remedial_actions: str = Field("", max_length=MAX_TEXT)
    status: str = "open"
    data_categories: list[str] = Field(default_factory=list, max_length=20)
    # None: the organisation's, derived from its country and data region
    jurisdictions: list[str] | None = Field(None, max_length=5)

    def details(self) -> IncidentDetails:
        return IncidentDetails.from_mapping(self.model_dump())


class DeadlineOut(Schema):
    jurisdiction: str
    kind: str
    due_at: dt.datetime
    overdue: bool
    done_at: dt.datetime | None
    reference: str


class IncidentSummaryOut(Schema):
    id: str
    title: str
    discovered_at: dt.datetime
    status: str
    next_deadline: DeadlineOut | None
    affected_patients: int


class IncidentOut(Schema):
    id: str
    title: str
    discovered_at: dt.datetime
    occurred_from: dt.datetime | None
    occurred_to: dt.datetime | None
    facts: str
    effects: str
    remedial_actions: str
    status: str
    data_categories: list[str]
    jurisdictions: list[str]
    deadlines: list[DeadlineOut]
    affected_patients: int


def deadline_out(d: IncidentDeadline, now: dt.datetime) -> dict[str, Any]:
    return {
        "jurisdiction": d.jurisdiction,
        "kind": d.kind,
        "due_at": d.due_at,
        "overdue": d.is_overdue(now),
        "done_at": d.done_at,
        "reference": d.reference,
    }


def summary_out(row: IncidentRow, now: dt.datetime) -> dict[str, Any]:
    i = row.incident
    return {
        "id": str(i.pk),
        "title": i.title,
        "discovered_at": i.discovered_at,
        "status": i.status,
        "next_deadline": deadline_out(row.next_deadline, now) if row.next_deadline else None,
        "affected_patients": row.affected,
    }


def incident_out(
    i: Incident, deadlines: list[IncidentDeadline], affected: int, now: dt.datetime
) -> dict[str, Any]:
    names = ("title", "discovered_at", "occurred_from", "occurred_to", "facts", "effects", "remedial_actions")
    return {
        "id": str(i.pk),
        **{name: getattr(i, name) for name in names},
        "status": i.status,
        "data_categories": list(i.data_categories),
        "jurisdictions": list(i.jurisdictions),
        "deadlines": [deadline_out(d, now) for d in deadlines],
        "affected_patients": affected,
    }
