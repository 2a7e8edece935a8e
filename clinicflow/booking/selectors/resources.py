"""Reads of doctors, rooms and equipment. Every function takes the organisation first (the iCalendar
feed's doctor, reached by a secret token, is the one exception)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Exists, OuterRef
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking.links import feed_token_hash
from clinicflow.booking.models import Doctor, DoctorBranch, DoctorService, Equipment, Room
from clinicflow.booking.selectors.base import get_by_id
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization

Links = dict[uuid.UUID, list[uuid.UUID]]


def doctor_get(*, org: Organization, doctor_id: object) -> Doctor:
    return get_by_id(Doctor.objects.for_org(org).select_related("user"), doctor_id, "doctor")


def doctor_for_user(*, org: Organization, user: User) -> Doctor | None:
    """The active doctor linked to a staff account, if any."""
    doctor: Doctor | None = Doctor.objects.for_org(org).filter(user=user, is_active=True).first()
    return doctor


def doctor_by_ical_token(*, token: str) -> Doctor | None:
    """The active doctor whose secret feed token this is (looked up by its SHA-256, with the
    organisation), or None: also for a token replaced by a newer one or past its expiry."""
    if not 20 <= len(token) <= 64:
        return None
    doctor: Doctor | None = (
        Doctor.objects.filter(
            ical_token_hash=feed_token_hash(token), ical_expires_at__gt=timezone.now(), is_active=True
        )
        .select_related("organization")
        .first()
    )
    return doctor


def doctor_list(
    *,
    org: Organization,
    branch: Branch | None = None,
    service: Service | None = None,
    active_only: bool = True,
) -> list[Doctor]:
    qs = Doctor.objects.for_org(org)
    if active_only:
        qs = qs.filter(is_active=True)
    if branch is not None:
        qs = qs.filter(pk__in=DoctorBranch.objects.for_org(org).filter(branch=branch).values("doctor_id"))
    if service is not None:
        qs = qs.filter(pk__in=DoctorService.objects.for_org(org).filter(service=service).values("doctor_id"))
    return list(qs.order_by("full_name", "id"))


def doctor_names(
    *, org: Organization, branch: Branch, service: Service, doctor: Doctor | None = None
) -> dict[uuid.UUID, str]:
    """Id -> name of the active doctors who perform ``service`` at ``branch`` (only ``doctor`` when
    given), by name: the candidates of a slot search, in one query."""
    found = Doctor.objects.for_org(org).filter(
        is_active=True,
        pk__in=DoctorService.objects.for_org(org).filter(service=service).values("doctor_id"),
    )
    found = found.filter(pk__in=DoctorBranch.objects.for_org(org).filter(branch=branch).values("doctor_id"))
    if doctor is not None:
        found = found.filter(pk=doctor.pk)
    return dict(found.order_by("full_name", "id").values_list("pk", "full_name"))


def doctor_links(*, org: Organization, doctors: Iterable[Doctor]) -> tuple[Links, Links]:
    """(doctor id -> branch ids, doctor id -> service ids) in two queries."""
    ids = [d.pk for d in doctors]
    branches: Links = defaultdict(list)
    services: Links = defaultdict(list)
    for d_id, b_id in (
        DoctorBranch.objects.for_org(org).filter(doctor_id__in=ids).values_list("doctor_id", "branch_id")
    ):
        branches[d_id].append(b_id)
    for d_id, s_id in (
        DoctorService.objects.for_org(org).filter(doctor_id__in=ids).values_list("doctor_id", "service_id")
    ):
        services[d_id].append(s_id)
    return branches, services


def doctor_branch_ids(*, org: Organization, doctor: Doctor, limit: int = 2) -> list[uuid.UUID]:
    """Up to ``limit`` ids of the branches the doctor works in."""
    return list(
        DoctorBranch.objects.for_org(org).filter(doctor=doctor).values_list("branch_id", flat=True)[:limit]
    )


def doctor_performs_and_works(
    *, org: Organization, doctor: Doctor, service: Service, branch: Branch
) -> tuple[bool, bool]:
    """Whether the doctor performs the service and works at the branch, in one query."""
    row = (
        Doctor.objects.for_org(org)
        .filter(pk=doctor.pk)
        .annotate(
            performs=Exists(
                DoctorService.objects.for_org(org).filter(doctor_id=OuterRef("pk"), service=service)
            ),
            works=Exists(DoctorBranch.objects.for_org(org).filter(doctor_id=OuterRef("pk"), branch=branch)),
        )
        .values_list("performs", "works")
        .first()
    )
    if row is None:
        return False, False
    return bool(row[0]), bool(row[1])


def room_get(*, org: Organization, room_id: object) -> Room:
    return get_by_id(Room.objects.for_org(org).select_related("branch"), room_id, "room")


def room_list(*, org: Organization, branch: Branch | None = None, room_type: str = "") -> list[Room]:
    """Active rooms, by name (of one branch and/or one type when given)."""
    qs = Room.objects.for_org(org).filter(is_active=True)
    if branch is not None:
        qs = qs.filter(branch=branch)
    if room_type:
        qs = qs.filter(room_type=room_type)
    return list(qs.order_by("name", "id"))


def room_ids(*, org: Organization, branch: Branch, room_type: str) -> list[uuid.UUID]:
    """Ids of the branch's active rooms of a type, by name."""
    return list(
        Room.objects.for_org(org)
        .filter(branch=branch, room_type=room_type, is_active=True)
        .order_by("name", "id")
        .values_list("pk", flat=True)
    )


def equipment_list(*, org: Organization, branch: Branch) -> list[Equipment]:
    return list(Equipment.objects.for_org(org).filter(branch=branch).select_related("room"))
