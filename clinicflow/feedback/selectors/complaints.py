"""Reads of complaints and their trails."""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet
from django.utils import timezone

from clinicflow.booking.selectors.base import get_by_id
from clinicflow.core.models import Organization
from clinicflow.feedback.models import OPEN_STATUSES, Complaint, ComplaintEvent, ComplaintStatus

COMPLAINT_RELATED = ("patient", "branch", "doctor", "owner", "answer")
VIEWS = ("open", "overdue", "resolved", "all")


def complaint_get(*, org: Organization, complaint_id: object) -> Complaint:
    qs = Complaint.objects.for_org(org).select_related(*COMPLAINT_RELATED)
    return get_by_id(qs, complaint_id, "complaint")


def complaint_list(
    *,
    org: Organization,
    view: str = "open",
    branch_id: uuid.UUID | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[Complaint]]:
    """(count, page) of complaints: ``open`` (new or in progress), ``overdue`` (open past the
    deadline), ``resolved`` (resolved or closed) or ``all``; by deadline (closed ones newest first)."""
    qs: QuerySet[Complaint] = Complaint.objects.for_org(org)
    if view == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif view == "overdue":
        qs = qs.filter(status__in=OPEN_STATUSES, deadline__lt=timezone.now())
    elif view == "resolved":
        qs = qs.filter(~Q(status__in=OPEN_STATUSES))
    if branch_id is not None:
        qs = qs.filter(branch_id=branch_id)
    order = ("-closed_at", "-created_at") if view == "resolved" else ("deadline", "id")
    page = list(qs.select_related(*COMPLAINT_RELATED).order_by(*order)[offset : offset + limit])
    return qs.count(), page


def complaint_events(*, org: Organization, complaint: Complaint) -> list[ComplaintEvent]:
    return list(
        ComplaintEvent.objects.for_org(org)
        .filter(complaint=complaint)
        .select_related("actor")
        .order_by("at", "id")
    )


def patient_complaints(*, org: Organization, patient_id: uuid.UUID, limit: int = 200) -> list[Complaint]:
    return list(Complaint.objects.for_org(org).filter(patient_id=patient_id).order_by("-created_at")[:limit])


__all__ = [
    "VIEWS",
    "ComplaintStatus",
    "complaint_events",
    "complaint_get",
    "complaint_list",
    "patient_complaints",
]
