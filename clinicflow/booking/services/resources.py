"""Writes of resources: doctors (and the branches and services they are linked to), rooms, equipment."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import Role
from clinicflow.booking.links import feed_lifetime, feed_token_hash, new_feed_token
from clinicflow.booking.models import Doctor, DoctorBranch, DoctorService, Equipment, Room
from clinicflow.booking.services.checks import clean_text, same_org
from clinicflow.catalogue.models import RoomType, Service
from clinicflow.core.audit import audit_record, audited_save
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization

Link = TypeVar("Link", DoctorBranch, DoctorService)
DOCTOR_FIELDS = ["full_name", "specialty", "is_consultant", "is_active", "user"]
ROOM_FIELDS = ["name", "room_type", "is_active"]


@transaction.atomic
def doctor_create(
    *,
    org: Organization,
    actor: User | None,
    full_name: str,
    specialty: str = "",
    user: User | None = None,
    is_consultant: bool = False,
    branches: Iterable[Branch] = (),
    services: Iterable[Service] = (),
) -> Doctor:
    same_org(org, user=user)
    doctor: Doctor = Doctor.objects.create(
        organization=org,
        full_name=clean_text(full_name, "full_name", 200),
        specialty=clean_text(specialty, "specialty", 200, required=False),
        user=user,
        is_consultant=is_consultant,
    )
    doctor_set_links(org=org, actor=actor, doctor=doctor, branches=branches, services=services)
    audit_record(org=org, actor=actor, action=AuditAction.CREATE, object_type="doctor", object_id=doctor.pk)
    return doctor


@transaction.atomic
def doctor_update(
    *,
    org: Organization,
    actor: User | None,
    doctor: Doctor,
    full_name: str,
    specialty: str = "",
    is_consultant: bool = False,
    is_active: bool = True,
    user: User | None = None,
) -> Doctor:
    same_org(org, doctor=doctor, user=user)
    doctor.full_name = clean_text(full_name, "full_name", 200)
    doctor.specialty = clean_text(specialty, "specialty", 200, required=False)
    doctor.is_consultant = is_consultant
    doctor.is_active = is_active
    doctor.user = user
    audited_save(doctor, org=org, actor=actor, fields=DOCTOR_FIELDS, object_type="doctor")
    return doctor


@transaction.atomic
def doctor_set_account(*, org: Organization, actor: User | None, doctor: Doctor, user: User | None) -> Doctor:
    """Link the doctor to a staff account of the doctor role (or unlink with ``None``): the account then
    sees "my day" and the doctor's own calendar. One account belongs to one doctor at most."""
    same_org(org, doctor=doctor, user=user)
    if user is not None:
        if user.role != Role.DOCTOR or not user.is_active:
            raise ValidationFailed.field("user", f"{user.email} is not an active doctor's account")
        other = Doctor.objects.for_org(org).filter(user=user).exclude(pk=doctor.pk).first()
        if other is not None:
            raise ValidationFailed.field("user", f"{user.email} is already linked to {other.full_name}")
    doctor.user = user
    audited_save(doctor, org=org, actor=actor, fields=["user"], object_type="doctor")
    return doctor


def _replace_links(
    org: Organization,
    doctor: Doctor,
    model: type[Link],
    name: str,
    targets: list[Any],
) -> None:
    """Make the doctor's ``model`` links (to branches or services, by ``name``) exactly ``targets``."""
    for target in targets:
        same_org(org, **{name: target})
    links = model.objects.for_org(org).filter(doctor=doctor)
    links.exclude(**{f"{name}__in": targets}).delete()
    have = set(links.values_list(f"{name}_id", flat=True))
    model.objects.bulk_create(
        model(organization=org, doctor=doctor, **{name: t}) for t in targets if t.pk not in have
    )


@transaction.atomic
def doctor_set_links(
    *,
    org: Organization,
    actor: User | None,
    doctor: Doctor,
    branches: Iterable[Branch] | None = None,
    services: Iterable[Service] | None = None,
) -> None:
    """Replace the branches the doctor works in and/or the services they may perform."""
    same_org(org, doctor=doctor)
    if branches is not None:
        _replace_links(org, doctor, DoctorBranch, "branch", list(branches))
    if services is not None:
        _replace_links(org, doctor, DoctorService, "service", list(services))


@transaction.atomic
def doctor_rotate_ical_token(
    *, org: Organization, actor: User | None, doctor: Doctor, request: HttpRequest | None = None
) -> tuple[Doctor, str]:
    """A new secret address for the doctor's calendar feed, valid for ``links.feed_lifetime()``; the
    old one stops working at once. Returns the doctor and the raw token, to show once: only its
    SHA-256 is stored."""
    same_org(org, doctor=doctor)
    token = new_feed_token()
    doctor.ical_token_hash = feed_token_hash(token)
    doctor.ical_expires_at = timezone.now() + feed_lifetime()
    audited_save(
        doctor,
        org=org,
        actor=actor,
        fields=["ical_token_hash", "ical_expires_at"],
        object_type="doctor",
        request=request,
    )
    return doctor, token


def _room_type(room_type: str) -> str:
    if room_type not in RoomType.values:
        raise ValidationFailed.field("room_type", f"must be one of {', '.join(RoomType.values)}")
    return room_type


@transaction.atomic
def room_create(*, org: Organization, actor: User | None, branch: Branch, name: str, room_type: str) -> Room:
    same_org(org, branch=branch)
    room_type = _room_type(room_type)
    name = clean_text(name, "name", 100)
    if Room.objects.for_org(org).filter(branch=branch, name=name).exists():
        raise Conflict(f"room {name!r} already exists", fields={"name": ["already exists"]})
    room: Room = Room.objects.create(organization=org, branch=branch, name=name, room_type=room_type)
    audit_record(org=org, actor=actor, action=AuditAction.CREATE, object_type="room", object_id=room.pk)
    return room


@transaction.atomic
def room_update(
    *, org: Organization, actor: User | None, room: Room, name: str, room_type: str, is_active: bool
) -> Room:
    same_org(org, room=room)
    room.room_type = _room_type(room_type)
    room.name = clean_text(name, "name", 100)
    room.is_active = is_active
    audited_save(room, org=org, actor=actor, fields=ROOM_FIELDS, object_type="room")
    return room


@transaction.atomic
def equipment_create(
    *, org: Organization, actor: User | None, branch: Branch, name: str, room: Room | None = None
) -> Equipment:
    same_org(org, branch=branch, room=room)
    if room is not None and room.branch_id != branch.pk:
        raise ValidationFailed.field("room", "the room is in another branch")
    item: Equipment = Equipment.objects.create(
        organization=org, branch=branch, name=clean_text(name, "name", 100), room=room
    )
    audit_record(org=org, actor=actor, action=AuditAction.CREATE, object_type="equipment", object_id=item.pk)
    return item
