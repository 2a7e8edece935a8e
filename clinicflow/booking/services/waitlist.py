"""Writes of the waitlist: add, close, and offer a freed slot to the oldest entry that fits."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking import selectors
from clinicflow.booking.models import Appointment, Doctor, WaitlistEntry, WaitlistStatus
from clinicflow.booking.services.checks import actor_or_none, clean_text, same_org
from clinicflow.catalogue.models import Service
from clinicflow.core.audit import audit_record, audited_save
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.patients.models import Patient


@transaction.atomic
def waitlist_add(
    *,
    org: Organization,
    actor: User | None,
    branch: Branch,
    patient: Patient,
    service: Service,
    date_from: dt.date,
    date_to: dt.date,
    doctor: Doctor | None = None,
    time_from: dt.time | None = None,
    time_to: dt.time | None = None,
    notes: str = "",
) -> WaitlistEntry:
    same_org(org, branch=branch, patient=patient, service=service, doctor=doctor)
    if date_to < date_from:
        raise ValidationFailed.field("date_to", "must not be before the start date")
    if time_from is not None and time_to is not None and time_to <= time_from:
        raise ValidationFailed.field("time_to", "must be after the earliest time")
    entry: WaitlistEntry = WaitlistEntry.objects.create(
        organization=org,
        branch=branch,
        patient=patient,
        service=service,
        doctor=doctor,
        date_from=date_from,
        date_to=date_to,
        time_from=time_from,
        time_to=time_to,
        notes=clean_text(notes, "notes", 300, required=False),
        created_by=actor_or_none(actor),
    )
    audit_record(org=org, actor=actor, action=AuditAction.CREATE, object_type="waitlist", object_id=entry.pk)
    return entry


@transaction.atomic
def waitlist_close(
    *, org: Organization, actor: User | None, entry: WaitlistEntry, appointment: Appointment | None = None
) -> WaitlistEntry:
    """Close the entry: ``booked`` with the appointment made for it, else ``closed``."""
    same_org(org, entry=entry, appointment=appointment)
    entry.status = WaitlistStatus.BOOKED if appointment is not None else WaitlistStatus.CLOSED
    entry.appointment = appointment
    audited_save(entry, org=org, actor=actor, fields=["status", "appointment"], object_type="waitlist")
    return entry


def _fits_time(entry: WaitlistEntry, local: dt.datetime) -> bool:
    if entry.time_from is not None and local.time() < entry.time_from:
        return False
    return not (entry.time_to is not None and local.time() > entry.time_to)


def offer_freed_slot(*, org: Organization, branch: Branch, service: Service, start: dt.datetime) -> None:
    """A slot was freed: offer it to the oldest waiting entry that fits (marked ``offered``, shown to the
    front desk with a one-click booking). Runs inside the cancel/move transaction."""
    if start <= timezone.now():
        return
    local = start.astimezone(branch.tz)
    day = local.date()
    for entry in selectors.waitlist_waiting_for(org=org, branch=branch, service=service, day=day):
        if not _fits_time(entry, local):
            continue
        slots = selectors.slots_find(
            org=org,
            branch=branch,
            service=service,
            doctor=entry.doctor,
            date_from=day,
            date_to=day,
            limit=None,
        )
        match = next((s for s in slots if s.start == start), None)
        if match is None:
            continue
        entry.status = WaitlistStatus.OFFERED
        entry.offered_start = match.start
        entry.offered_doctor_id = match.doctor_id
        entry.offered_at = timezone.now()
        entry.save(update_fields=["status", "offered_start", "offered_doctor", "offered_at"])
        return
