"""Doctors, their schedules and free slots as FHIR ``Practitioner``, ``Schedule`` and ``Slot``.

A Schedule is one doctor at one branch (a ``DoctorBranch`` row, whose id it takes); its free Slots
are the booking slot search's, computed per service, never stored: a Slot's id names its schedule,
service and start (``mapping.common.slot_id``)."""

from __future__ import annotations

import uuid
from typing import Any

from clinicflow.booking.models import Doctor
from clinicflow.booking.selectors import Slot
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch
from clinicflow.fhir.mapping.appointment import service_concept
from clinicflow.fhir.mapping.common import BRANCH_SYSTEM, DOCTOR_SYSTEM, instant, meta, slot_id


def practitioner_to_fhir(doctor: Doctor) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": str(doctor.pk),
        "meta": meta(doctor.created_at),
        "identifier": [{"use": "official", "system": DOCTOR_SYSTEM, "value": str(doctor.pk)}],
        "active": doctor.is_active,
        "name": [{"use": "official", "text": doctor.full_name}],
    }
    if doctor.specialty:
        out["qualification"] = [{"code": {"text": doctor.specialty}}]
    return out


def schedule_to_fhir(
    schedule_id: uuid.UUID, doctor: Doctor, branch: Branch, services: list[Service]
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Schedule",
        "id": str(schedule_id),
        "active": doctor.is_active,
        "actor": [
            {"reference": f"Practitioner/{doctor.pk}", "display": doctor.full_name},
            {
                "type": "Location",
                "identifier": {"system": BRANCH_SYSTEM, "value": str(branch.pk)},
                "display": branch.name,
            },
        ],
        "comment": f"{doctor.full_name}, {branch.name} ({branch.timezone})",
    }
    if services:
        out["serviceType"] = [service_concept(s.code, s.name) for s in services]
    return out


def slot_to_fhir(slot: Slot, schedule_id: uuid.UUID, service: Service) -> dict[str, Any]:
    return {
        "resourceType": "Slot",
        "id": slot_id(schedule_id, service.pk, slot.start),
        "serviceType": [service_concept(service.code, service.name)],
        "schedule": {"reference": f"Schedule/{schedule_id}"},
        "status": "free",
        "start": instant(slot.start),
        "end": instant(slot.end),
    }
