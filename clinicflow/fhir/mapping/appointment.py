"""Appointment <-> FHIR ``Appointment``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.fhir.errors import unprocessable
from clinicflow.fhir.mapping.common import (
    APPOINTMENT_SYSTEM,
    BRANCH_SYSTEM,
    SERVICE_SYSTEM,
    instant,
    meta,
    parse_instant,
    reference_id,
)

STATUS_OUT = {
    AppointmentStatus.BOOKED: "booked",
    AppointmentStatus.CONFIRMED: "booked",
    AppointmentStatus.ARRIVED: "arrived",
    AppointmentStatus.DONE: "fulfilled",
    AppointmentStatus.NO_SHOW: "noshow",
    AppointmentStatus.CANCELLED: "cancelled",
}
# a FHIR status searched -> the Clinicflow statuses it covers
STATUS_IN: dict[str, list[str]] = {}
for _ours, _theirs in STATUS_OUT.items():
    STATUS_IN.setdefault(_theirs, []).append(str(_ours))
FHIR_STATUSES = (
    "proposed", "pending", "booked", "arrived", "fulfilled",
    "cancelled", "noshow", "entered-in-error", "checked-in", "waitlist",
)  # fmt: skip


def service_concept(code: str, name: str) -> dict[str, Any]:
    return {"coding": [{"system": SERVICE_SYSTEM, "code": code, "display": name}], "text": name}


def appointment_to_fhir(appt: Appointment) -> dict[str, Any]:
    """The FHIR Appointment of a booking (its service, doctor, patient and branch are loaded)."""
    confirmed = appt.status != AppointmentStatus.BOOKED
    out: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(appt.pk),
        "meta": meta(appt.updated_at),
        "identifier": [{"use": "official", "system": APPOINTMENT_SYSTEM, "value": str(appt.pk)}],
        "status": STATUS_OUT[AppointmentStatus(appt.status)],
        "serviceType": [service_concept(appt.service.code, appt.service.name)],
        "start": instant(appt.start_at),
        "end": instant(appt.end_at),
        "minutesDuration": max(1, int((appt.end_at - appt.start_at).total_seconds() // 60)),
        "created": instant(appt.created_at),
        "participant": [
            {
                "actor": {"reference": f"Patient/{appt.patient_id}", "display": appt.patient.full_name},
                "required": "required",
                "status": "accepted" if confirmed else "needs-action",
            },
            {
                "actor": {"reference": f"Practitioner/{appt.doctor_id}", "display": appt.doctor.full_name},
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": {
                    "type": "Location",
                    "identifier": {"system": BRANCH_SYSTEM, "value": str(appt.branch_id)},
                    "display": appt.branch.name,
                },
                "required": "required",
                "status": "accepted",
            },
        ],
    }
    if appt.status == AppointmentStatus.CANCELLED and appt.cancel_reason:
        out["cancelationReason"] = {"text": appt.cancel_reason}
    if appt.notes:
        out["comment"] = appt.notes
    return out


@dataclass
class AppointmentIn:
    """A FHIR Appointment to book: references still unresolved (ids or ``urn:uuid:`` of a Bundle)."""

    patient_ref: str
    practitioner_ref: str | None
    slot_ref: str | None
    service_code: str | None
    branch_id: str | None
    start: dt.datetime | None
    comment: str
    identifiers: list[tuple[str, str]]


def _actor(participants: list[Any], kind: str) -> dict[str, Any] | None:
    for p in participants:
        actor = p.get("actor") if isinstance(p, dict) else None
        if not isinstance(actor, dict):
            continue
        ref = actor.get("reference")
        if isinstance(ref, str) and (ref.startswith(f"{kind}/") or f"/{kind}/" in ref):
            return actor
        if kind == "Location" and actor.get("type") == "Location":
            return actor
    return None


def _new_patient(participants: list[Any]) -> dict[str, Any] | None:
    """The participant naming a resource of the same Bundle (``urn:uuid:``): a Bundle creates only
    Patients, so that is the patient (unless its ``type`` says otherwise)."""
    for p in participants:
        actor = p.get("actor") if isinstance(p, dict) else None
        if (
            isinstance(actor, dict)
            and str(actor.get("reference", "")).startswith("urn:uuid:")
            and actor.get("type", "Patient") == "Patient"
        ):
            return actor
    return None


def _urn_or_id(actor: dict[str, Any], kind: str, element: str) -> str:
    ref = actor.get("reference")
    if isinstance(ref, str) and ref.startswith("urn:uuid:"):
        return ref
    return reference_id(actor, kind, element)


def _check_kinds(participants: list[Any]) -> None:
    for i, p in enumerate(participants):
        ref = (p.get("actor") or {}).get("reference") if isinstance(p, dict) else None
        kind = ref.split("/")[-2] if isinstance(ref, str) and "/" in ref else None
        if kind is not None and kind not in ("Patient", "Practitioner", "Location"):
            raise unprocessable(
                f"a participant must be a Patient, Practitioner or Location, not a {kind[:40]}",
                f"Appointment.participant[{i}].actor",
            )


def _service_code(resource: dict[str, Any]) -> str | None:
    for concept in resource.get("serviceType") or []:
        for coding in concept.get("coding") or [] if isinstance(concept, dict) else []:
            if isinstance(coding, dict) and coding.get("system") == SERVICE_SYSTEM and coding.get("code"):
                return str(coding["code"])
    return None


def appointment_from_fhir(resource: dict[str, Any]) -> AppointmentIn:
    """The booking request of a FHIR Appointment: a Patient participant, and either a Slot or a
    Practitioner participant, a service type and a start. Its status must be booked or proposed:
    Clinicflow books through its rules; past visits are not written through FHIR."""
    status = resource.get("status")
    if status not in ("booked", "proposed", "pending"):
        raise unprocessable(
            "a new appointment must have status booked, proposed or pending", "Appointment.status"
        )
    participants = resource.get("participant")
    if not isinstance(participants, list) or not participants:
        raise unprocessable("an appointment needs participants", "Appointment.participant")
    _check_kinds(participants)
    patient = _actor(participants, "Patient") or _new_patient(participants)
    if patient is None:
        raise unprocessable("an appointment needs a Patient participant", "Appointment.participant")
    practitioner = _actor(participants, "Practitioner")
    location = _actor(participants, "Location")
    branch_id = None
    if location is not None:
        ident = location.get("identifier") or {}
        branch_id = ident.get("value") if ident.get("system") == BRANCH_SYSTEM else None
        if branch_id is None and isinstance(location.get("reference"), str):
            branch_id = reference_id(location, "Location", "Appointment.participant.actor")
    slots = resource.get("slot") or []
    slot_ref = (
        reference_id(slots[0], "Slot", "Appointment.slot") if isinstance(slots, list) and slots else None
    )
    service_code = _service_code(resource)
    start = parse_instant(resource["start"], "Appointment.start") if resource.get("start") else None
    if slot_ref is None:
        if practitioner is None:
            raise unprocessable("name a Slot, or a Practitioner participant", "Appointment.participant")
        if service_code is None:
            raise unprocessable(f"needs a coding of system {SERVICE_SYSTEM}", "Appointment.serviceType")
        if start is None:
            raise unprocessable("an appointment needs a start", "Appointment.start")
    comment = resource.get("comment") or ""
    if not isinstance(comment, str) or len(comment) > 500:
        raise unprocessable("at most 500 characters", "Appointment.comment")
    idents = [
        (str(i.get("system")), str(i.get("value")))
        for i in resource.get("identifier") or []
        if isinstance(i, dict)
        and i.get("system")
        and i.get("value")
        and i.get("system") != APPOINTMENT_SYSTEM
    ][:10]
    return AppointmentIn(
        patient_ref=_urn_or_id(patient, "Patient", "Appointment.participant.actor"),
        practitioner_ref=(
            _urn_or_id(practitioner, "Practitioner", "Appointment.participant.actor")
            if practitioner
            else None
        ),
        slot_ref=slot_ref,
        service_code=service_code,
        branch_id=branch_id,
        start=start,
        comment=comment,
        identifiers=idents,
    )
