"""Who was affected: the patients a staff user touched in a time window, answered from the audit log.

A row counts when it belongs to the organisation, its actor is the user (pages and the user's API
tokens alike: a token acts as its user), ``start <= at < end`` and its outcome is ``ok`` (a denied or
not-found attempt showed nothing). Its ``object_id`` is mapped to a patient by its ``object_type``:

- ``patient``: the patient itself (views, edits, creation, merges: both patients of a merge);
- ``consent``, ``appointment``, ``waitlist``, ``payment``, ``call``, ``message``: the record's patient;
  ``callback_task``: the patient of its call; an id that is no such record is tried as a patient id
  (the API's consent list and the message list filtered by patient name the patient);
- ``incident_affected``: the patients of that incident's snapshots taken before the row (viewing or
  exporting an affected list shows them).

Not covered, so counted in ``uncovered``: ``list`` and ``export`` rows that name no record (a list
page or a report shows records the log does not name). Phones are part of the patient's row (their
edits are ``patient`` rows naming the field ``phones``). Patients since deleted are not listed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import models

from clinicflow.acquisition.models import Call, CallbackTask
from clinicflow.booking.models import Appointment, Payment, WaitlistEntry
from clinicflow.core.models import AuditAction, AuditEvent, AuditOutcome, Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.messaging.models import Message
from clinicflow.patients.models import ConsentEvent, Patient
from clinicflow.privacy.models import AffectedPatient

PATIENT = "patient"
AFFECTED_LIST = "incident_affected"
# object_type -> (model, the lookup that reaches its patient's id)
RELATED: dict[str, tuple[type[models.Model], str]] = {
    "consent": (ConsentEvent, "patient_id"),
    "appointment": (Appointment, "patient_id"),
    "waitlist": (WaitlistEntry, "patient_id"),
    "payment": (Payment, "patient_id"),
    "call": (Call, "patient_id"),
    "callback_task": (CallbackTask, "call__patient_id"),
    "message": (Message, "patient_id"),
}
COVERED = frozenset({PATIENT, AFFECTED_LIST, *RELATED})
CHUNK = 2000
UNNAMED = frozenset({AuditAction.LIST, AuditAction.EXPORT})


@dataclass(frozen=True)
class Touched:
    patient_ids: frozenset[uuid.UUID]
    rows: int  # the user's rows in the window with outcome ok
    by_type: dict[str, int] = field(default_factory=dict)  # rows mapped to patients, per object_type
    uncovered: int = 0  # list and export rows that name no record


def _chunks(ids: set[uuid.UUID], size: int = CHUNK) -> list[list[uuid.UUID]]:
    """Ids in batches small enough for one ``IN (...)`` on every database."""
    ordered = sorted(ids)
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


def _related_patients(org: Organization, object_type: str, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """The patients of the records ``ids`` of ``object_type``; ids that are no such record are
    returned as they are (candidates for patient ids)."""
    model, lookup = RELATED[object_type]
    found: set[uuid.UUID] = set()
    out: set[uuid.UUID] = set()
    for chunk in _chunks(ids):
        pairs = model._default_manager.filter(organization=org, pk__in=chunk).values_list("pk", lookup)
        for pk, patient_id in pairs:
            found.add(pk)
            if patient_id is not None:
                out.add(patient_id)
    return out | (ids - found)


def _affected_list_patients(org: Organization, seen: list[tuple[uuid.UUID, dt.datetime]]) -> set[uuid.UUID]:
    out: set[uuid.UUID] = set()
    for incident_id, at in seen:
        out.update(
            AffectedPatient.objects.for_org(org)
            .filter(incident_id=incident_id, snapshot__created_at__lte=at)
            .values_list("patient_id", flat=True)
        )
    return out


def patients_touched(
    *, org: Organization, actor_id: uuid.UUID, start: dt.datetime, end: dt.datetime
) -> Touched:
    """The exact set of ``org``'s patients whose records the user touched in ``[start, end)``."""
    rows = (
        AuditEvent.objects.for_org(org)
        .filter(actor_id=actor_id, at__gte=start, at__lt=end, outcome=AuditOutcome.OK)
        .values_list("object_type", "object_id", "action", "at")
    )
    ids: dict[str, set[uuid.UUID]] = defaultdict(set)
    seen_lists: list[tuple[uuid.UUID, dt.datetime]] = []
    by_type: Counter[str] = Counter()
    total = uncovered = 0
    for object_type, object_id, action, at in rows.iterator(chunk_size=2000):
        total += 1
        pk = parse_uuid(object_id) if object_id else None
        if pk is None or object_type not in COVERED:
            uncovered += action in UNNAMED
            continue
        by_type[object_type] += 1
        if object_type == AFFECTED_LIST:
            seen_lists.append((pk, at))
        else:
            ids[object_type].add(pk)
    candidates = set(ids.pop(PATIENT, set())) | _affected_list_patients(org, seen_lists)
    for object_type, pks in ids.items():
        candidates |= _related_patients(org, object_type, pks)
    patients: set[uuid.UUID] = set()
    for chunk in _chunks(candidates):
        patients.update(Patient.objects.for_org(org).filter(pk__in=chunk).values_list("pk", flat=True))
    return Touched(patient_ids=frozenset(patients), rows=total, by_type=dict(by_type), uncovered=uncovered)
