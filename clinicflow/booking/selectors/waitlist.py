"""Reads of the waitlist."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from clinicflow.booking.models import WaitlistEntry, WaitlistStatus
from clinicflow.booking.selectors.base import get_by_id
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization

OPEN = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


def waitlist_list(
    *, org: Organization, branch: Branch | None = None, open_only: bool = True
) -> QuerySet[WaitlistEntry, WaitlistEntry]:
    qs = WaitlistEntry.objects.for_org(org).select_related(
        "patient", "service", "doctor", "offered_doctor", "branch"
    )
    if branch is not None:
        qs = qs.filter(branch=branch)
    if open_only:
        qs = qs.filter(status__in=OPEN)
    ordered: QuerySet[WaitlistEntry, WaitlistEntry] = qs.order_by("created_at", "id")
    return ordered


def waitlist_entry_get(*, org: Organization, entry_id: object) -> WaitlistEntry:
    """An open (waiting or offered) entry; ``NotFound`` for a closed or unknown one."""
    return get_by_id(waitlist_list(org=org, open_only=True), entry_id, "waitlist entry")


def waitlist_waiting_for(
    *, org: Organization, branch: Branch, service: Service, day: dt.date, limit: int = 20
) -> list[WaitlistEntry]:
    """The oldest entries still waiting for ``service`` at ``branch`` whose dates include ``day``."""
    return list(
        WaitlistEntry.objects.for_org(org)
        .filter(
            branch=branch,
            service=service,
            status=WaitlistStatus.WAITING,
            date_from__lte=day,
            date_to__gte=day,
        )
        .order_by("created_at", "id")[:limit]
    )
