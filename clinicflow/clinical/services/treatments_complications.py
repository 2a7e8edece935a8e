"""Writes of the treatment part: complication entries (append-only; a correction is a new entry)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking.models import Appointment, Doctor
from clinicflow.catalogue.models import Service
from clinicflow.clinical.models.treatments import Complication, ComplicationOutcome, Severity, TreatmentRecord
from clinicflow.clinical.services.treatments import _Errors
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditAction, Organization
from clinicflow.patients.models import Patient

__all__ = ["ComplicationData", "ValidationFailed", "complication_log"]


@dataclass
class ComplicationData:
    patient: Patient
    severity: str
    onset_date: dt.date | None
    description: str
    outcome: str
    treatment_given: str = ""
    follow_up_date: dt.date | None = None
    appointment: Appointment | None = None
    treatment: TreatmentRecord | None = None
    doctor: Doctor | None = None
    service: Service | None = None
    corrects: Complication | None = None


def complication_log(
    *, org: Organization, actor: User, data: ComplicationData, request: HttpRequest | None = None
) -> Complication:
    """Log a complication entry (or a correction of one: a new entry naming it)."""
    errors = _Errors()
    if data.severity not in Severity.values:
        errors.add("severity", f"must be one of {', '.join(Severity.values)}")
    if data.outcome not in ComplicationOutcome.values:
        errors.add("outcome", f"must be one of {', '.join(ComplicationOutcome.values)}")
    if data.onset_date is None:
        errors.add("onset_date", "required")
    elif data.onset_date > timezone.localdate():
        errors.add("onset_date", "cannot be in the future")
    if data.follow_up_date and data.onset_date and data.follow_up_date < data.onset_date:
        errors.add("follow_up_date", "cannot be before the onset")
    if not data.description.strip():
        errors.add("description", "required")
    if len(data.description) > 5000 or len(data.treatment_given) > 5000:
        errors.add("description", "at most 5000 characters")
    for name, obj in (("appointment", data.appointment), ("treatment", data.treatment)):
        if obj is not None and obj.patient_id != data.patient.pk:
            errors.add(name, "belongs to another patient")
    if data.corrects is not None and data.corrects.patient_id != data.patient.pk:
        errors.add("corrects", "belongs to another patient")
    errors.raise_any()
    assert data.onset_date is not None  # checked above
    source = data.treatment or data.appointment
    with transaction.atomic():
        entry = Complication.objects.create(
            organization=org,
            patient=data.patient,
            appointment=data.appointment or (data.treatment.appointment if data.treatment else None),
            treatment=data.treatment,
            doctor=data.doctor or (getattr(source, "doctor", None)),
            service=data.service or (getattr(source, "service", None)),
            severity=data.severity,
            onset_date=data.onset_date,
            description=data.description.strip(),
            treatment_given=data.treatment_given.strip(),
            outcome=data.outcome,
            follow_up_date=data.follow_up_date,
            corrects=data.corrects,
            recorded_by=actor,
        )
        audit_record(
            org=org,
            actor=actor,
            action=AuditAction.CREATE,
            object_type="complication",
            object_id=entry.pk,
            fields=["severity", "onset_date", "description", "treatment_given", "outcome", "follow_up_date"],
            request=request,
        )
    return entry
