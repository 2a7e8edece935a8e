"""The API of the clinical records: treatment records, lot traceability, complications."""

import datetime as dt
import uuid
from typing import Any

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.accounts.breakglass import PatientAccess, access_denied_record, access_record, patient_access
from clinicflow.booking.models import Appointment
from clinicflow.booking.selectors.appointments import appointment_get
from clinicflow.clinical.models.treatments import Complication, TreatmentRecord
from clinicflow.clinical.selectors import treatments as sel
from clinicflow.clinical.services import treatments as svc
from clinicflow.clinical.services import treatments_complications as csvc
from clinicflow.core.api import ERRORS
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import NotFound, PermissionDenied
from clinicflow.core.models import AuditAction
from clinicflow.patients import selectors as patient_selectors
from clinicflow.patients.models import Patient

router = Router(tags=["clinical"])


class ProductIn(Schema):
    name: str = Field(..., max_length=200)
    manufacturer: str = Field("", max_length=200)
    lot: str = Field(..., max_length=80, description="batch/lot number (stored trimmed, upper-case)")
    amount: str = Field(..., max_length=20, description="a decimal string > 0, e.g. 1.0 or 50")
    unit: str = Field(..., max_length=8, description="ml, U, mg, pcs, shots or J")
    area: str = Field("", max_length=100)


class TreatmentIn(Schema):
    services_done: list[str] = Field(default_factory=list, description="catalogue service ids")
    products: list[ProductIn] = Field(default_factory=list)
    map_notes: dict[str, str] = Field(
        default_factory=dict, description="injection/treatment map: {area: note}"
    )
    sop_checked: list[int] = Field(default_factory=list, description="numbers (from 0) of the SOP items done")
    notes: str = Field("", max_length=5000)
    sign_off: bool = Field(False, description="sign the record off (it is append-only afterwards)")


class ProductOut(Schema):
    name: str
    manufacturer: str
    lot: str
    amount: str
    unit: str
    area: str


class AmendmentOut(Schema):
    at: dt.datetime
    by: str
    reason: str
    changes: dict[str, Any]


class TreatmentOut(Schema):
    id: uuid.UUID
    appointment: uuid.UUID
    patient: uuid.UUID
    doctor: uuid.UUID
    service: uuid.UUID
    services_done: list[str]
    products: list[ProductOut]
    map_notes: dict[str, str]
    sop_version: int | None
    sop_items: list[str]
    sop_checked: list[int]
    notes: str
    signed_at: dt.datetime | None
    signed_by: str | None
    original: dict[str, Any] | None = Field(None, description="the signed-off values when amended")
    amendments: list[AmendmentOut]


class AmendIn(Schema):
    reason: str = Field(..., max_length=500)
    changes: dict[str, Any] = Field(
        ...,
        description="fields (notes, map_notes, sop_checked, services_done, products) with their new values",
    )


def _appointment(
    request: ApiRequest, appointment_id: str, *, write: bool
) -> tuple[Appointment, PatientAccess]:
    org, user = request.org, request.auth
    appointment = appointment_get(org=org, appointment_id=appointment_id)
    access = patient_access(
        org=org, user=user, patient_id=appointment.patient_id, branch_id=appointment.patient.branch_id
    )
    if not (access.writes if write else access.opens):
        access_denied_record(
            org=org, actor=user, object_type="treatment_record", object_id=appointment.pk, request=request
        )
        raise PermissionDenied("your role or branch does not give access to this patient")
    return appointment, access


def _out(request: ApiRequest, record: TreatmentRecord) -> dict[str, Any]:
    org = request.org
    original = sel.original_values(org=org, record=record)
    amendments = sel.amendments_of(org=org, record=record)
    current = sel.current_values(org=org, record=record) if amendments else original
    return {
        "id": record.pk,
        "appointment": record.appointment_id,
        "patient": record.patient_id,
        "doctor": record.doctor_id,
        "service": record.service_id,
        **current,
        "sop_version": record.sop_version.version if record.sop_version else None,
        "sop_items": list(record.sop_version.items) if record.sop_version else [],
        "signed_at": record.signed_at,
        "signed_by": record.signed_by.email if record.signed_by else None,
        "original": original if amendments else None,
        "amendments": [
            {"at": a.at, "by": a.by.email if a.by else "", "reason": a.reason, "changes": a.changes}
            for a in amendments
        ],
    }


@router.post("/appointments/{appointment_id}/treatment", response={200: TreatmentOut, **ERRORS})
@api_perm("clinical.record", audit_object="treatment_record")
def treatment_save(request: ApiRequest, appointment_id: str, payload: TreatmentIn) -> dict[str, Any]:
    """Create or update the appointment's treatment record while it is unsigned; `sign_off: true`
    signs it off. A signed-off record is refused with 409 (add an amendment instead)."""
    appointment, _ = _appointment(request, appointment_id, write=True)
    data = svc.TreatmentData(
        services_done=payload.services_done,
        products=[svc.ProductData(**p.model_dump()) for p in payload.products],
        map_notes=payload.map_notes,
        sop_checked=payload.sop_checked,
        notes=payload.notes,
    )
    record = svc.treatment_save(
        org=request.org,
        actor=request.auth,
        appointment=appointment,
        data=data,
        sign_off=payload.sign_off,
        request=request,
    )
    return _out(request, sel.treatment_for(org=request.org, appointment=appointment) or record)


@router.get("/appointments/{appointment_id}/treatment", response={200: TreatmentOut, **ERRORS})
@api_perm("clinical.view", audit_object="treatment_record")
def treatment_detail(request: ApiRequest, appointment_id: str) -> dict[str, Any]:
    """The appointment's treatment record with its amendments (404 when none was written)."""
    appointment, access = _appointment(request, appointment_id, write=False)
    record = sel.treatment_for(org=request.org, appointment=appointment)
    if record is None:
        raise NotFound("no treatment record for this appointment")
    data = _out(request, record)
    access_record(
        access,
        org=request.org,
        actor=request.auth,
        object_type="treatment_record",
        object_id=record.pk,
        fields=sorted(data),
        request=request,
    )
    return data


@router.post("/appointments/{appointment_id}/treatment/amendments", response={200: TreatmentOut, **ERRORS})
@api_perm("clinical.record", audit_object="treatment_record")
def treatment_amend(request: ApiRequest, appointment_id: str, payload: AmendIn) -> dict[str, Any]:
    """Amend a signed-off record: the original stays; the amendment keeps who, when, what and why."""
    appointment, _ = _appointment(request, appointment_id, write=True)
    record = sel.treatment_for(org=request.org, appointment=appointment)
    if record is None:
        raise NotFound("no treatment record for this appointment")
    svc.treatment_amend(
        org=request.org,
        actor=request.auth,
        record=record,
        changes=payload.changes,
        reason=payload.reason,
        current=sel.current_values(org=request.org, record=record),
        request=request,
    )
    return _out(request, record)


class LotHitOut(Schema):
    patient: uuid.UUID
    patient_name: str
    appointment: uuid.UUID
    date: dt.datetime
    doctor: str
    product: str
    lot: str
    amount: str
    unit: str
    area: str
    signed: bool


@router.get("/treatments/lots", response={200: list[LotHitOut], **ERRORS})
@api_perm("clinical.view", audit_object="treatment_record")
def lot_search(request: ApiRequest, lot: str = Query(..., max_length=80)) -> list[dict[str, Any]]:  # type: ignore[type-arg]
    """Which patients got lot `lot`: every use in the organisation (case and spaces ignored)."""
    hits = sel.lot_search(org=request.org, lot=lot, user=request.auth)
    audit_record(
        org=request.org,
        actor=request.auth,
        action=AuditAction.LIST,
        object_type="treatment_record",
        fields=["lot"],
        request=request,
    )
    return [
        {
            "patient": h.patient_id,
            "patient_name": h.patient_name,
            "appointment": h.appointment_id,
            "date": h.date,
            "doctor": h.doctor,
            "product": h.product,
            "lot": h.lot,
            "amount": str(h.amount),
            "unit": h.unit,
            "area": h.area,
            "signed": h.signed,
        }
        for h in hits
    ]


class ComplicationIn(Schema):
    patient: str
    severity: str = Field(..., max_length=20, description="mild, moderate or severe")
    onset_date: dt.date
    description: str = Field(..., max_length=5000)
    treatment_given: str = Field("", max_length=5000)
    outcome: str = Field(..., max_length=20, description="ongoing, resolved, referred or sequelae")
    follow_up_date: dt.date | None = None
    appointment: str | None = None
    corrects: str | None = Field(None, description="the id of the entry this one corrects")


class ComplicationOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    appointment: uuid.UUID | None
    treatment: uuid.UUID | None
    doctor: uuid.UUID | None
    service: uuid.UUID | None
    severity: str
    onset_date: dt.date
    description: str
    treatment_given: str
    outcome: str
    follow_up_date: dt.date | None
    corrects: uuid.UUID | None
    created_at: dt.datetime


def _complication_out(c: Complication) -> dict[str, Any]:
    return {
        "id": c.pk,
        "patient": c.patient_id,
        "appointment": c.appointment_id,
        "treatment": c.treatment_id,
        "doctor": c.doctor_id,
        "service": c.service_id,
        "severity": c.severity,
        "onset_date": c.onset_date,
        "description": c.description,
        "treatment_given": c.treatment_given,
        "outcome": c.outcome,
        "follow_up_date": c.follow_up_date,
        "corrects": c.corrects_id,
        "created_at": c.created_at,
    }


def _patient(request: ApiRequest, patient_id: str) -> Patient:
    patient = patient_selectors.patient_get(org=request.org, patient_id=patient_id)
    access = patient_access(
        org=request.org, user=request.auth, patient_id=patient.pk, branch_id=patient.branch_id
    )
    if not access.writes:
        access_denied_record(
            org=request.org,
            actor=request.auth,
            object_type="complication",
            object_id=patient.pk,
            request=request,
        )
        raise PermissionDenied("your role or branch does not give access to this patient")
    return patient


@router.post("/complications", response={201: ComplicationOut, **ERRORS})
@api_perm("clinical.record", audit_object="complication")
def complication_create(request: ApiRequest, payload: ComplicationIn) -> Status[dict[str, Any]]:
    """Log a complication (append-only; a correction is a new entry with `corrects`)."""
    org = request.org
    patient = _patient(request, payload.patient)
    appointment = (
        appointment_get(org=org, appointment_id=payload.appointment) if payload.appointment else None
    )
    treatment = sel.treatment_for(org=org, appointment=appointment) if appointment else None
    corrects = sel.complication_get(org=org, complication_id=payload.corrects) if payload.corrects else None
    entry = csvc.complication_log(
        org=org,
        actor=request.auth,
        request=request,
        data=csvc.ComplicationData(
            patient=patient,
            severity=payload.severity,
            onset_date=payload.onset_date,
            description=payload.description,
            treatment_given=payload.treatment_given,
            outcome=payload.outcome,
            follow_up_date=payload.follow_up_date,
            appointment=appointment,
            treatment=treatment,
            corrects=corrects,
        ),
    )
    return Status(201, _complication_out(entry))


class CaseParams(Schema):
    month: str = Field("", max_length=7, description="YYYY-MM (onset month)")
    severity: str = Field("", max_length=20)
    doctor: str = Field("", max_length=40, description="doctor id")
    open: bool = Field(False, description="only open follow-ups")
    patient: str = Field("", max_length=40)


@router.get("/complications", response={200: list[ComplicationOut], **ERRORS})
@api_perm("clinical.review", audit_object="complication")
def complication_list(request: ApiRequest, params: Query[CaseParams]) -> list[dict[str, Any]]:
    """The current entry of each complication case (the case-review list), newest onset first."""
    filters = sel.CaseFilters(
        month=sel.parse_month(params.month) if params.month else None,
        severity=params.severity,
        doctor_id=sel._uuid(params.doctor) if params.doctor else None,
        open_follow_ups=params.open,
        patient_id=sel._uuid(params.patient) if params.patient else None,
    )
    items = list(sel.complication_cases(org=request.org, filters=filters)[:500])
    audit_record(
        org=request.org,
        actor=request.auth,
        action=AuditAction.LIST,
        object_type="complication",
        fields=["severity", "onset_date", "description", "outcome"],
        request=request,
    )
    return [_complication_out(c) for c in items]
