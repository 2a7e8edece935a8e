"""One FHIR Patient or Appointment in: through ``patients.services`` and ``booking.services``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from clinicflow.accounts.models import User
from clinicflow.booking import selectors as booking_selectors
from clinicflow.booking import services as booking
from clinicflow.booking.models import Appointment, AppointmentSource, Doctor
from clinicflow.core.errors import DomainError, NotFound
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import branch_get
from clinicflow.fhir import selectors
from clinicflow.fhir.errors import from_domain, unprocessable
from clinicflow.fhir.mapping.appointment import AppointmentIn, appointment_from_fhir
from clinicflow.fhir.mapping.common import slot_id_parse
from clinicflow.fhir.mapping.patient import patient_from_fhir
from clinicflow.fhir.models import ExternalIdentifier
from clinicflow.patients import services as patient_services
from clinicflow.patients.models import Patient
from clinicflow.patients.selectors import patient_get


@dataclass
class Resolver:
    """References of a Bundle: ``urn:uuid:...`` fullUrl -> the local id of the resource it became."""

    local: dict[str, uuid.UUID] = field(default_factory=dict)

    def patient(self, org: Organization, ref: str) -> Patient:
        if ref.startswith("urn:uuid:"):
            if ref not in self.local:
                raise unprocessable(f"unknown reference {ref[:80]!r}: no Patient entry has this fullUrl")
            return patient_get(org=org, patient_id=self.local[ref], with_phones=False)
        try:
            return patient_get(org=org, patient_id=ref, with_phones=False)
        except NotFound as exc:
            raise unprocessable(f"unknown reference 'Patient/{ref[:64]}'") from exc


def _remember(org: Organization, kind: str, identifiers: list[tuple[str, str]], local_id: uuid.UUID) -> None:
    ExternalIdentifier.objects.bulk_create(
        [
            ExternalIdentifier(organization=org, resource_type=kind, system=s, value=v, local_id=local_id)
            for s, v in dict(identifiers).items()
        ]
    )


def _known(org: Organization, kind: str, identifiers: list[tuple[str, str]]) -> uuid.UUID | None:
    for system, value in identifiers:
        found = selectors.local_ids_by_identifier(org=org, resource_type=kind, system=system, value=value)
        if found:
            return found[0]
    return None


@transaction.atomic
def patient_create_fhir(
    *, org: Organization, actor: User | None, resource: dict[str, Any], request: HttpRequest | None = None
) -> tuple[Patient, bool]:
    """(patient, created): a Patient whose identifier (system and value) Clinicflow already holds is
    that patient, unchanged, so importing the same file twice creates nobody twice."""
    parsed = patient_from_fhir(resource)
    existing = _known(org, "Patient", parsed.identifiers)
    if existing is not None:
        try:
            return patient_get(org=org, patient_id=existing), False
        except NotFound:
            pass  # the patient was erased: the identifier names nobody now
    try:
        patient = patient_services.patient_create(org=org, actor=actor, data=parsed.data, request=request)
    except DomainError as exc:
        raise from_domain(exc, element="Patient") from exc
    _remember(org, "Patient", parsed.identifiers, patient.pk)
    return patient, True


def _booking_target(
    org: Organization, parsed: AppointmentIn, resolve: Resolver
) -> tuple[Doctor, Branch | None, str, Any]:
    """(doctor, branch or None, service code, start) from the Slot or the participants."""
    if parsed.slot_ref is not None:
        key = slot_id_parse(parsed.slot_ref)
        if key is None:
            raise unprocessable(f"unknown reference 'Slot/{parsed.slot_ref[:64]}'", "Appointment.slot")
        try:
            schedule = selectors.schedule_get(org=org, schedule_id=key[0])
            service = selectors.service_by_code(org=org, code=str(key[1]))
        except NotFound as exc:
            raise unprocessable(
                f"unknown reference 'Slot/{parsed.slot_ref[:64]}'", "Appointment.slot"
            ) from exc
        return schedule.doctor, schedule.branch, service.code, key[2]
    assert parsed.practitioner_ref is not None and parsed.service_code is not None  # by the mapping
    if parsed.practitioner_ref.startswith("urn:uuid:"):
        raise unprocessable("a Bundle may not create Practitioners: reference an existing one", "Appointment")
    try:
        doctor = booking_selectors.doctor_get(org=org, doctor_id=parsed.practitioner_ref)
    except NotFound as exc:
        ref = f"Practitioner/{parsed.practitioner_ref[:64]}"
        raise unprocessable(f"unknown reference {ref!r}", "Appointment.participant") from exc
    return doctor, None, parsed.service_code, parsed.start


def _branch(org: Organization, parsed: AppointmentIn, doctor: Doctor, given: Branch | None) -> Branch:
    if parsed.branch_id is not None:
        try:
            return branch_get(org=org, branch_id=parsed.branch_id)
        except NotFound as exc:
            raise unprocessable("unknown branch (Location)", "Appointment.participant") from exc
    if given is not None:
        return given
    ids = booking_selectors.doctor_branch_ids(org=org, doctor=doctor, limit=2)
    if len(ids) != 1:
        raise unprocessable(
            "name the branch: a Location participant (the doctor works at several branches or none)",
            "Appointment.participant",
        )
    return branch_get(org=org, branch_id=ids[0])


@transaction.atomic
def appointment_create_fhir(
    *,
    org: Organization,
    actor: User | None,
    resource: dict[str, Any],
    resolve: Resolver | None = None,
    request: HttpRequest | None = None,
    notify: bool = True,
) -> tuple[Appointment, bool]:
    """(appointment, created): book through ``booking.services.appointment_book`` (its rules, its
    conflict checks: a taken time is a 409). An Appointment whose identifier is known is not booked
    again."""
    parsed = appointment_from_fhir(resource)
    resolve = resolve or Resolver()
    existing = _known(org, "Appointment", parsed.identifiers)
    if existing is not None:
        try:
            return booking_selectors.appointment_get(org=org, appointment_id=existing), False
        except NotFound:
            pass
    patient = resolve.patient(org, parsed.patient_ref)
    doctor, slot_branch, code, start = _booking_target(org, parsed, resolve)
    try:
        service = selectors.service_by_code(org=org, code=code)
    except NotFound as exc:
        raise unprocessable(f"unknown service {code[:60]!r}", "Appointment.serviceType") from exc
    branch = _branch(org, parsed, doctor, slot_branch)
    try:
        appt = booking.appointment_book(
            org=org,
            actor=actor,
            branch=branch,
            patient=patient,
            service=service,
            doctor=doctor,
            start=start,
            source=AppointmentSource.API,
            notes=parsed.comment,
            notify=notify,
            request=request,
        )
    except DomainError as exc:
        raise from_domain(exc, element="Appointment") from exc
    _remember(org, "Appointment", parsed.identifiers, appt.pk)
    return appt, True
