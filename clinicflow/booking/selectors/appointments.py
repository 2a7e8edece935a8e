"""Reads of appointments: one, a filtered list, a branch's calendar, a doctor's feed, and the live
intervals that hold doctors and rooms (plain SQL: every booking and slot search reads them)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from clinicflow.booking import availability as av
from clinicflow.booking.links import LinkState, manage_state
from clinicflow.booking.models import HOLDING_STATUSES, Appointment, AppointmentStatus, Doctor, Room
from clinicflow.booking.selectors.base import MAX_APPOINTMENT, get_by_id
from clinicflow.catalogue.models import Service
from clinicflow.core import rawsql
from clinicflow.core.errors import DomainError, NotFound
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.patients.models import Patient

EPOCH0 = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
RELATED = ("branch", "patient", "service", "doctor", "room")

LiveRow = tuple[uuid.UUID, uuid.UUID | None, dt.datetime, dt.datetime]


def appointment_get(*, org: Organization, appointment_id: object) -> Appointment:
    return get_by_id(Appointment.objects.for_org(org).select_related(*RELATED), appointment_id, "appointment")


class LinkExpired(DomainError):
    """A manage link this application signed, but for an older version (staff issued a new one) or
    past the visit's end and its grace period: the patient asks the clinic for a new link."""

    status = 410
    code = "link_expired"


def appointment_for_manage(*, appointment_id: object, token: str) -> Appointment:
    """The appointment a patient's manage link names (id and signed token, ``booking.links``), with
    its organisation; ``NotFound`` for an unknown id or a token not signed for it, ``LinkExpired``
    for an older or expired link. The link is the only key a patient holds."""
    pk = parse_uuid(appointment_id)
    appt: Appointment | None = (
        Appointment.objects.select_related("organization", *RELATED).filter(pk=pk).first() if pk else None
    )
    state = manage_state(appt, token[:64]) if appt is not None else LinkState.WRONG
    if appt is None or state is LinkState.WRONG:
        raise NotFound("appointment not found")
    if state is LinkState.EXPIRED:
        raise LinkExpired("this link has expired")
    return appt


@dataclass(frozen=True)
class AppointmentFilters:
    branch: Branch | None = None
    doctor: Doctor | None = None
    room: Room | None = None
    patient_id: uuid.UUID | None = None
    status: str = ""
    start_from: dt.datetime | None = None
    start_to: dt.datetime | None = None


def appointment_list(
    *, org: Organization, filters: AppointmentFilters | None = None
) -> QuerySet[Appointment, Appointment]:
    f = filters or AppointmentFilters()
    qs = Appointment.objects.for_org(org).select_related(*RELATED)
    lookups = {
        "branch": f.branch,
        "doctor": f.doctor,
        "room": f.room,
        "patient_id": f.patient_id,
        "start_at__gte": f.start_from,
        "start_at__lt": f.start_to,
    }
    qs = qs.filter(**{k: v for k, v in lookups.items() if v is not None})
    if f.status:
        qs = qs.filter(status=f.status)
    ordered: QuerySet[Appointment, Appointment] = qs.order_by("start_at", "id")
    return ordered


def doctor_upcoming(
    *, org: Organization, doctor: Doctor, start: dt.datetime, end: dt.datetime
) -> list[Appointment]:
    """The doctor's appointments starting in ``[start, end)``, cancelled ones left out, by start."""
    qs = appointment_list(
        org=org, filters=AppointmentFilters(doctor=doctor, start_from=start, start_to=end)
    ).exclude(status=AppointmentStatus.CANCELLED)
    return list(qs)


def calendar_appointments(
    *,
    org: Organization,
    branch: Branch,
    start: dt.datetime,
    end: dt.datetime,
    include_cancelled: bool = False,
) -> list[Appointment]:
    """The branch's appointments overlapping ``[start, end)``, by start."""
    qs = Appointment.objects.for_org(org).filter(
        branch=branch, start_at__lt=end, start_at__gte=start - MAX_APPOINTMENT, busy_until__gt=start
    )
    if not include_cancelled:
        qs = qs.exclude(status=AppointmentStatus.CANCELLED)
    return list(qs.select_related("patient", "service", "doctor", "room").order_by("start_at", "id"))


def has_earlier_visit(*, org: Organization, patient: Patient, before: dt.datetime) -> bool:
    """Whether the patient has any appointment (not cancelled) starting before ``before``."""
    found: bool = (
        Appointment.objects.for_org(org)
        .filter(patient=patient, start_at__lt=before)
        .exclude(status=AppointmentStatus.CANCELLED)
        .exists()
    )
    return found


def is_first_visit(*, org: Organization, patient: Patient, service: Service, start: dt.datetime) -> bool:
    """A first-visit service, or the patient's first appointment (the one definition of a first visit)."""
    return service.is_first_visit or not has_earlier_visit(org=org, patient=patient, before=start)


def live_rows(
    *,
    org: Organization,
    doctor_ids: Sequence[uuid.UUID] = (),
    room_ids: Sequence[uuid.UUID] = (),
    start: dt.datetime,
    end: dt.datetime,
    exclude_id: uuid.UUID | None = None,
) -> list[LiveRow]:
    """(doctor, room, start, busy_until) of live appointments of any of ``doctor_ids`` or ``room_ids``
    overlapping ``[start, end)``. Plain SQL (``core.rawsql``): it runs twice per booking and once per
    slot search."""
    who = []
    params: list[Any] = [rawsql.db_uuid(org.pk)]
    if doctor_ids:
        who.append(f"doctor_id IN ({rawsql.placeholders(len(doctor_ids))})")
        params += [rawsql.db_uuid(d) for d in doctor_ids]
    if room_ids:
        who.append(f"room_id IN ({rawsql.placeholders(len(room_ids))})")
        params += [rawsql.db_uuid(r) for r in room_ids]
    if not who:
        return []
    params += list(HOLDING_STATUSES)
    params += [
        rawsql.db_datetime(end),
        rawsql.db_datetime(start - MAX_APPOINTMENT),
        rawsql.db_datetime(start),
    ]
    sql = (
        f"SELECT doctor_id, room_id, {rawsql.epoch_sql('start_at')}, {rawsql.epoch_sql('busy_until')} "  # nosec B608 # noqa: S608 - table names from model meta, values bound
        f"FROM {Appointment._meta.db_table} WHERE organization_id = %s AND ({' OR '.join(who)}) "
        f"AND status IN ({rawsql.placeholders(len(HOLDING_STATUSES))}) "
        "AND start_at < %s AND start_at >= %s AND busy_until > %s"
    )
    if exclude_id is not None:
        sql += " AND id <> %s"
        params.append(rawsql.db_uuid(exclude_id))
    sec = dt.timedelta(seconds=1)
    return [
        (rawsql.py_uuid(d), rawsql.py_uuid(r), EPOCH0 + a * sec, EPOCH0 + b * sec)  # type: ignore[misc]  # doctor_id is NOT NULL
        for d, r, a, b in rawsql.fetch(sql, params)
    ]


def split_taken(
    rows: Iterable[LiveRow], doctor_ids: set[uuid.UUID], room_ids: set[uuid.UUID]
) -> tuple[dict[uuid.UUID, list[av.Interval]], dict[uuid.UUID, list[av.Interval]]]:
    """Each doctor's and each room's taken intervals (sorted and merged) from ``live_rows``."""
    by_doctor: dict[uuid.UUID, list[av.Interval]] = defaultdict(list)
    by_room: dict[uuid.UUID, list[av.Interval]] = defaultdict(list)
    for d_id, r_id, s0, s1 in rows:
        if d_id in doctor_ids:
            by_doctor[d_id].append((s0, s1))
        if r_id is not None and r_id in room_ids:
            by_room[r_id].append((s0, s1))
    return {k: av.merge(v) for k, v in by_doctor.items()}, {k: av.merge(v) for k, v in by_room.items()}


def taken_by_doctor_and_rooms(
    *,
    org: Organization,
    doctor_id: uuid.UUID | None,
    room_ids: Iterable[uuid.UUID],
    start: dt.datetime,
    end: dt.datetime,
    exclude_id: uuid.UUID | None = None,
) -> tuple[list[av.Interval], dict[uuid.UUID, list[av.Interval]]]:
    """The doctor's (none without ``doctor_id``) and each room's live ``[start_at, busy_until)``
    overlapping ``[start, end)``, in one query (a booking checks both)."""
    rooms = set(room_ids)
    doctors = {doctor_id} if doctor_id is not None else set()
    rows = live_rows(
        org=org, doctor_ids=list(doctors), room_ids=list(rooms), start=start, end=end, exclude_id=exclude_id
    )
    by_doctor, by_room = split_taken(rows, doctors, rooms)
    return by_doctor.get(doctor_id, []) if doctor_id is not None else [], by_room


def doctor_feed_appointments(
    *, org: Organization, doctor: Doctor, start: dt.datetime, end: dt.datetime
) -> QuerySet[Appointment, Appointment]:
    """The doctor's appointments (not cancelled) starting in ``[start, end)`` for the iCalendar feed."""
    qs: QuerySet[Appointment, Appointment] = (
        Appointment.objects.for_org(org)
        .filter(doctor=doctor, start_at__gte=start, start_at__lt=end)
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("patient", "service", "branch", "room")
        .order_by("start_at")
    )
    return qs
