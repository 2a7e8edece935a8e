"""Reads for the FHIR API. Every function takes the organisation first and queries only its rows."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from clinicflow.booking.models import Appointment, Doctor, DoctorBranch, DoctorService
from clinicflow.catalogue.models import Service
from clinicflow.core.crypto import phone_index
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.fhir.models import ExternalIdentifier
from clinicflow.patients.models import Patient, PatientPhone
from clinicflow.patients.selectors import PatientFilters, patient_list

APPOINTMENT_RELATED = ("branch", "patient", "service", "doctor")


def _phones(org: Organization) -> Prefetch[str, QuerySet[PatientPhone], str]:
    return Prefetch("phones", queryset=PatientPhone.objects.for_org(org))


@dataclass(frozen=True)
class PatientQuery:
    """A Patient search: ``name`` (words of the name), ``phone`` (E.164, by its blind index),
    ``identifier`` (Clinicflow's id or an imported one), ``birthdate`` (a condition on the date)."""

    name: str | None = None
    phone_e164: str | None = None
    ident_system: str | None = None
    ident_value: str | None = None
    birthdate: Q | None = None


def local_ids_by_identifier(
    *, org: Organization, resource_type: str, system: str | None, value: str
) -> list[uuid.UUID]:
    qs = ExternalIdentifier.objects.for_org(org).filter(resource_type=resource_type, value=value)
    if system is not None:
        qs = qs.filter(system=system)
    return list(qs.values_list("local_id", flat=True)[:50])


def patient_search(
    *, org: Organization, query: PatientQuery, own_system: str, offset: int, count: int
) -> list[Patient]:
    """Up to ``count + 1`` live patients matching every condition (one more tells a next page)."""
    if query.name:
        qs = patient_list(org=org, filters=PatientFilters(q=query.name, search_contacts=False))
    else:
        qs = Patient.objects.for_org(org).filter(merged_into__isnull=True).prefetch_related(_phones(org))
        qs = qs.order_by("last_name", "first_name", "id")
    if query.phone_e164 is not None:
        owners = PatientPhone.objects.for_org(org).filter(e164_index=phone_index(org.pk, query.phone_e164))
        owner_ids = owners.order_by().values("patient_id")
        if query.name:
            # with a name, the owners first (a few rows through the org-first blind index), then their
            # cards: a subquery would let the planner walk the organisation's patients in name order
            qs = qs.filter(pk__in=list(owner_ids.values_list("patient_id", flat=True)[:50]))
        else:
            # no index gives (last name, first name, id) order, so the planner starts from the phone's
            # blind index and sorts the few cards it finds: one round trip instead of two
            qs = qs.filter(pk__in=owner_ids)
    if query.ident_value is not None:
        ids: list[uuid.UUID] = []
        if query.ident_system in (None, own_system):
            own = parse_uuid(query.ident_value)
            ids += [own] if own else []
        if query.ident_system != own_system:
            ids += local_ids_by_identifier(
                org=org, resource_type="Patient", system=query.ident_system, value=query.ident_value
            )
        qs = qs.filter(pk__in=ids)
    if query.birthdate is not None:
        qs = qs.filter(query.birthdate)
    return list(qs[offset : offset + count + 1])


def identifiers_of(
    *, org: Organization, resource_type: str, ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[str, str]]]:
    out: dict[uuid.UUID, list[tuple[str, str]]] = defaultdict(list)
    if ids:
        rows = ExternalIdentifier.objects.for_org(org).filter(resource_type=resource_type, local_id__in=ids)
        for local_id, system, value in rows.order_by("system", "value").values_list(
            "local_id", "system", "value"
        ):
            out[local_id].append((system, value))
    return out


@dataclass(frozen=True)
class AppointmentQuery:
    patient_id: uuid.UUID | None = None
    doctor_id: uuid.UUID | None = None
    statuses: tuple[str, ...] | None = None
    date: Q | None = None


def appointment_search(
    *, org: Organization, query: AppointmentQuery, offset: int, count: int
) -> list[Appointment]:
    qs = Appointment.objects.for_org(org).select_related(*APPOINTMENT_RELATED)
    if query.patient_id is not None:
        qs = qs.filter(patient_id=query.patient_id)
    if query.doctor_id is not None:
        qs = qs.filter(doctor_id=query.doctor_id)
    if query.statuses is not None:
        qs = qs.filter(status__in=query.statuses)
    if query.date is not None:
        qs = qs.filter(query.date)
    return list(qs.order_by("start_at", "id")[offset : offset + count + 1])


def doctor_search(*, org: Organization, name: str | None, offset: int, count: int) -> list[Doctor]:
    qs = Doctor.objects.for_org(org)
    for word in (name or "").split()[:5]:
        qs = qs.filter(full_name__icontains=word)
    return list(qs.order_by("full_name", "id")[offset : offset + count + 1])


def schedule_get(*, org: Organization, schedule_id: object) -> DoctorBranch:
    """One doctor at one branch (the id of the link row), with both loaded."""
    pk = parse_uuid(schedule_id)
    row = (
        DoctorBranch.objects.for_org(org).select_related("doctor", "branch").filter(pk=pk).first()
        if pk
        else None
    )
    if row is None:
        raise NotFound("schedule not found")
    return row


def schedule_search(
    *, org: Organization, doctor_id: uuid.UUID | None, offset: int, count: int
) -> list[DoctorBranch]:
    qs = DoctorBranch.objects.for_org(org).select_related("doctor", "branch")
    if doctor_id is not None:
        qs = qs.filter(doctor_id=doctor_id)
    return list(qs.order_by("doctor__full_name", "branch__name", "id")[offset : offset + count + 1])


def services_of_doctors(*, org: Organization, doctor_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Service]]:
    out: dict[uuid.UUID, list[Service]] = defaultdict(list)
    links = (
        DoctorService.objects.for_org(org)
        .filter(doctor_id__in=doctor_ids, service__is_active=True)
        .select_related("service")
        .order_by("service__name")
    )
    for link in links:
        out[link.doctor_id].append(link.service)
    return out


def service_by_code(*, org: Organization, code: str) -> Service:
    """A service by its code (or its id); ``NotFound`` otherwise."""
    pk = parse_uuid(code)
    service = Service.objects.for_org(org).filter(Q(code=code) | Q(pk=pk) if pk else Q(code=code)).first()
    if service is None:
        raise NotFound("service not found")
    return service
