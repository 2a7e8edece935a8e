"""Complaints: opened for the branch manager with a deadline, moved along new → in progress →
resolved / closed (with the resolution), each change an append-only event and an audit row."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, ValidationFailed, require_choice
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.feedback.models import Complaint, ComplaintEvent, ComplaintStatus, SurveyAnswer
from clinicflow.feedback.selectors import settings as settings_sel

S = ComplaintStatus
# status -> the statuses it may move to
MOVES: dict[str, tuple[str, ...]] = {
    S.NEW: (S.IN_PROGRESS, S.RESOLVED, S.CLOSED),
    S.IN_PROGRESS: (S.RESOLVED, S.CLOSED),
    S.RESOLVED: (),
    S.CLOSED: (),
}
FINAL = (S.RESOLVED, S.CLOSED)


def complaint_open(
    *,
    org: Organization,
    patient_id: uuid.UUID,
    branch: Branch,
    doctor_id: uuid.UUID | None,
    reason: str,
    answer: SurveyAnswer | None = None,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> Complaint:
    """A new complaint owned by the branch manager, due in the settings' deadline hours."""
    now = timezone.now()
    conf = settings_sel.settings_for(org=org)
    complaint = Complaint.objects.create(
        organization=org,
        answer=answer,
        patient_id=patient_id,
        branch=branch,
        doctor_id=doctor_id,
        owner=settings_sel.branch_manager(org=org, branch=branch),
        reason=reason[:300],
        status=S.NEW,
        deadline=now + dt.timedelta(hours=conf.complaint_deadline_hours),
        created_at=now,
    )
    ComplaintEvent.objects.create(
        organization=org,
        complaint=complaint,
        status_from="",
        status_to=S.NEW,
        note=reason[:300],
        actor=actor,
        at=now,
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="complaint",
        object_id=complaint.pk,
        request=request,
    )
    return complaint


@transaction.atomic
def complaint_change(
    *,
    org: Organization,
    actor: User | None,
    complaint: Complaint,
    status: str,
    note: str = "",
    owner: User | None = None,
    request: HttpRequest | None = None,
) -> Complaint:
    """Move the complaint to ``status`` (a resolution ``note`` is required to resolve or close it);
    ``owner`` reassigns it. Conflict for a move the trail does not allow."""
    require_choice("status", status, S.values)
    locked = Complaint.objects.select_for_update().get(pk=complaint.pk, organization=org)
    note = note.strip()
    if status != locked.status and status not in MOVES[locked.status]:
        raise Conflict(f"a {locked.status} complaint cannot become {status}", code="complaint_status")
    if status in FINAL and not note:
        raise ValidationFailed.field("note", "write the resolution")
    if owner is not None and owner.organization_id != org.pk:
        raise ValidationFailed.field("owner", "unknown user")
    now = timezone.now()
    fields = []
    if owner is not None and owner.pk != locked.owner_id:
        locked.owner = owner
        fields.append("owner")
    if status != locked.status:
        ComplaintEvent.objects.create(
            organization=org,
            complaint=locked,
            status_from=locked.status,
            status_to=status,
            note=note[:2000],
            actor=actor,
            at=now,
        )
        locked.status = status
        fields.append("status")
        if status in FINAL:
            locked.resolution = note[:2000]
            locked.closed_at = now
            fields += ["resolution", "closed_at"]
    elif note:
        ComplaintEvent.objects.create(
            organization=org,
            complaint=locked,
            status_from=locked.status,
            status_to=status,
            note=note[:2000],
            actor=actor,
            at=now,
        )
    if fields:
        locked.save(update_fields=fields)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="complaint",
        object_id=locked.pk,
        fields=fields,
        request=request,
    )
    return locked
