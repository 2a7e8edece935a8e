"""Writes of the breach register: incidents, their deadlines' "done" records, affected-patient
snapshots. Keyword-only, atomic, audited (object types ``incident``, ``incident_deadline``,
``incident_snapshot``), raising ``clinicflow.core.errors``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.audit import audit_record, audited_save
from clinicflow.core.errors import ValidationFailed, require_choice
from clinicflow.core.models import AuditAction, Organization
from clinicflow.privacy.affected import patients_touched
from clinicflow.privacy.jurisdictions import RULES_BY_KIND, jurisdictions_for, ordered, rules_for
from clinicflow.privacy.models import (
    AffectedPatient,
    AffectedSnapshot,
    DataCategory,
    Incident,
    IncidentDeadline,
    IncidentStatus,
    Jurisdiction,
)

MAX_TEXT = 20_000
MAX_WINDOW = dt.timedelta(days=400)
# a clock a little ahead of the server's must not make "now" a time in the future
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclasses.dataclass(frozen=True)
class IncidentDetails:
    title: str
    discovered_at: dt.datetime
    facts: str
    occurred_from: dt.datetime | None = None
    occurred_to: dt.datetime | None = None
    effects: str = ""
    remedial_actions: str = ""
    status: str = IncidentStatus.OPEN
    data_categories: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> IncidentDetails:
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["data_categories"] = tuple(values.get("data_categories") or ())
        return cls(**values)


def _text(name: str, value: str, limit: int, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed.field(name, "is required")
    if len(value) > limit:
        raise ValidationFailed.field(name, f"must be at most {limit} characters")
    return value


def _not_future(name: str, value: dt.datetime | None, now: dt.datetime) -> None:
    if value is not None and timezone.is_naive(value):
        raise ValidationFailed.field(name, "must include a time zone (a UTC offset)")
    if value is not None and value > now + CLOCK_SKEW:
        raise ValidationFailed.field(name, "cannot be in the future")


def _clean(details: IncidentDetails, jurisdictions: list[str], now: dt.datetime) -> dict[str, Any]:
    _not_future("discovered_at", details.discovered_at, now)
    _not_future("occurred_from", details.occurred_from, now)
    if details.occurred_to is not None and timezone.is_naive(details.occurred_to):
        raise ValidationFailed.field("occurred_to", "must include a time zone (a UTC offset)")
    if details.occurred_from and details.occurred_from > details.discovered_at:
        raise ValidationFailed.field("occurred_from", "must not be after the discovery")
    if details.occurred_from and details.occurred_to and details.occurred_to < details.occurred_from:
        raise ValidationFailed.field("occurred_to", "must not be before the start")
    require_choice("status", details.status, IncidentStatus.values)
    for category in details.data_categories:
        require_choice("data_categories", category, DataCategory.values)
    for code in jurisdictions:
        require_choice("jurisdictions", code, Jurisdiction.values)
    return {
        "title": _text("title", details.title, 200, required=True),
        "discovered_at": details.discovered_at,
        "occurred_from": details.occurred_from,
        "occurred_to": details.occurred_to,
        "facts": _text("facts", details.facts, MAX_TEXT, required=True),
        "effects": _text("effects", details.effects, MAX_TEXT, required=False),
        "remedial_actions": _text("remedial_actions", details.remedial_actions, MAX_TEXT, required=False),
        "status": details.status,
        "data_categories": sorted(set(details.data_categories)),
        "jurisdictions": ordered(jurisdictions),
    }


def _sync_deadlines(org: Organization, incident: Incident) -> bool:
    """Make the incident's deadlines those of its jurisdictions, due from its discovery. A deadline
    already done is kept (with its record) even if its jurisdiction was removed. True if any changed."""
    existing = {d.kind: d for d in IncidentDeadline.objects.for_org(org).filter(incident=incident)}
    changed = False
    wanted = rules_for(incident.jurisdictions)
    for rule in wanted:
        due = rule.due(incident.discovered_at)
        row = existing.get(rule.kind)
        if row is None:
            IncidentDeadline.objects.create(
                organization=org,
                incident=incident,
                jurisdiction=rule.jurisdiction,
                kind=rule.kind,
                due_at=due,
            )
            changed = True
        elif row.due_at != due:
            row.due_at = due
            row.save(update_fields=["due_at"])
            changed = True
    stale = [
        d.pk for kind, d in existing.items() if d.done_at is None and kind not in {r.kind for r in wanted}
    ]
    if stale:
        IncidentDeadline.objects.for_org(org).filter(pk__in=stale).delete()
        changed = True
    return changed


@transaction.atomic
def incident_create(
    *,
    org: Organization,
    actor: User | None,
    details: IncidentDetails,
    jurisdictions: list[str] | None = None,
    request: HttpRequest | None = None,
) -> Incident:
    """Register an incident; its deadlines follow from its jurisdictions (by default the
    organisation's, see ``jurisdictions_for``) and the time of discovery."""
    now = timezone.now()
    codes = jurisdictions_for(org) if jurisdictions is None else list(jurisdictions)
    values = _clean(details, codes, now)
    incident = Incident(
        organization=org,
        created_by=actor if actor and actor.pk else None,
        created_at=now,
        updated_at=now,
        **values,
    )
    incident.save(force_insert=True)
    _sync_deadlines(org, incident)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="incident",
        object_id=incident.pk,
        fields=[*values, "deadlines"],
        request=request,
    )
    return incident


@transaction.atomic
def incident_update(
    *,
    org: Organization,
    actor: User | None,
    incident: Incident,
    details: IncidentDetails,
    jurisdictions: list[str],
    request: HttpRequest | None = None,
) -> Incident:
    values = _clean(details, jurisdictions, timezone.now())
    changed = [name for name, value in values.items() if getattr(incident, name) != value]
    if not changed:
        return incident
    for name in changed:
        setattr(incident, name, values[name])
    incident.updated_at = timezone.now()
    incident.save(update_fields=[*changed, "updated_at"])
    if _sync_deadlines(org, incident):
        changed.append("deadlines")
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="incident",
        object_id=incident.pk,
        fields=changed,
        request=request,
    )
    return incident


@transaction.atomic
def deadline_mark_done(
    *,
    org: Organization,
    actor: User,
    incident: Incident,
    kind: str,
    done_at: dt.datetime,
    reference: str,
    request: HttpRequest | None = None,
) -> IncidentDeadline:
    """Record that a notification was made: when, by whom (the recording user) and its reference.
    Once every deadline is done, an open incident becomes "notified"."""
    require_choice("kind", kind, list(RULES_BY_KIND))
    deadline = IncidentDeadline.objects.for_org(org).filter(incident=incident, kind=kind).first()
    if deadline is None:
        raise ValidationFailed.field("kind", "this incident owes no such notification")
    now = timezone.now()
    _not_future("done_at", done_at, now)
    if done_at < incident.discovered_at:
        raise ValidationFailed.field("done_at", "must not be before the discovery")
    deadline.done_at, deadline.done_by, deadline.recorded_at = done_at, actor, now
    deadline.reference = _text("reference", reference, 200, required=False)
    fields = ["done_at", "done_by", "reference", "recorded_at"]
    audited_save(
        deadline, org=org, actor=actor, fields=fields, object_type="incident_deadline", request=request
    )
    pending = IncidentDeadline.objects.for_org(org).filter(incident=incident, done_at__isnull=True).exists()
    if not pending and incident.status == IncidentStatus.OPEN:
        incident.status, incident.updated_at = IncidentStatus.NOTIFIED, now
        audited_save(
            incident,
            org=org,
            actor=actor,
            fields=["status", "updated_at"],
            object_type="incident",
            request=request,
        )
    return deadline


def _check_window(start: dt.datetime, end: dt.datetime) -> None:
    for name, value in (("start", start), ("end", end)):
        if timezone.is_naive(value):
            raise ValidationFailed.field(name, "must include a time zone (a UTC offset)")
    if end <= start:
        raise ValidationFailed.field("end", "must be after the start")
    if end - start > MAX_WINDOW:
        raise ValidationFailed.field("end", f"the window may be at most {MAX_WINDOW.days} days")


@transaction.atomic
def affected_attach(
    *,
    org: Organization,
    actor: User,
    incident: Incident,
    subject: User,
    start: dt.datetime,
    end: dt.datetime,
    request: HttpRequest | None = None,
) -> AffectedSnapshot:
    """Attach to the incident the patients ``subject`` touched in ``[start, end)`` (from the audit
    log, see ``privacy.affected``), as a snapshot: later audit rows do not change it."""
    if subject.organization_id != org.pk:
        raise ValidationFailed.field("subject", "unknown staff user")
    _check_window(start, end)
    touched = patients_touched(org=org, actor_id=subject.pk, start=start, end=end)
    snapshot = AffectedSnapshot.objects.create(
        organization=org,
        incident=incident,
        subject=subject,
        subject_email=subject.email,
        window_start=start,
        window_end=end,
        patient_count=len(touched.patient_ids),
        uncovered_rows=touched.uncovered,
        created_by=actor,
    )
    AffectedPatient.objects.bulk_create(
        [
            AffectedPatient(organization=org, incident=incident, snapshot=snapshot, patient_id=pk)
            for pk in sorted(touched.patient_ids)
        ],
        batch_size=1000,
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="incident_snapshot",
        object_id=snapshot.pk,
        fields=["subject", "window_start", "window_end", "patients"],
        request=request,
    )
    return snapshot
