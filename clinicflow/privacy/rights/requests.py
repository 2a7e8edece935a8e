"""The log of data-subject requests: opened with its deadline, closed with what was done."""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.models import Organization
from clinicflow.privacy.models import RequestStatus, SubjectRequest
from clinicflow.privacy.rights.deadlines import request_due


def request_open(
    *, org: Organization, patient_id: uuid.UUID, kind: str, actor: User | None
) -> SubjectRequest:
    now = timezone.now()
    return SubjectRequest.objects.create(
        organization=org,
        patient_id=patient_id,
        kind=kind,
        received_at=now,
        due_at=request_due(org, now),
        handled_by=actor if actor and actor.pk else None,
    )


def request_close(row: SubjectRequest, *, outcome: dict[str, Any], refused: bool = False) -> SubjectRequest:
    row.status = RequestStatus.REFUSED if refused else RequestStatus.DONE
    row.completed_at = timezone.now()
    row.outcome = outcome
    row.save(update_fields=["status", "completed_at", "outcome"])
    return row


def request_list(
    *,
    org: Organization,
    open_only: bool = False,
    limit: int = 500,
    status: str | None = None,
    kind: str | None = None,
    patient_id: uuid.UUID | None = None,
) -> list[SubjectRequest]:
    qs = SubjectRequest.objects.for_org(org)
    if open_only:
        qs = qs.filter(status=RequestStatus.OPEN)
    if status is not None:
        qs = qs.filter(status=status)
    if kind is not None:
        qs = qs.filter(kind=kind)
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    return list(qs.order_by("-received_at")[:limit])
