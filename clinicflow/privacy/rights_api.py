"""Data-subject rights over the REST API (``privacy.requests``: owner, clinic manager): the request
log with deadlines and status, and one endpoint per right — access (the JSON of everything held),
export (the ZIP: JSON, PDF summary, photos), rectification, erasure, restriction and withdrawal of
consents. Thin handlers over ``privacy.rights``; every request is logged (``SubjectRequest``) and
audited; a patient or request of another organisation is a 404."""

import datetime as dt
import uuid
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status
from pydantic import ConfigDict

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.core.api import ERRORS
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditAction
from clinicflow.core.selectors import parse_uuid
from clinicflow.patients.models import ConsentPurpose, Patient
from clinicflow.patients.selectors import patient_get
from clinicflow.patients.services import PatientData
from clinicflow.privacy.models import RequestKind, RequestStatus, SubjectRequest
from clinicflow.privacy.rights.correct import subject_correct, subject_withdraw
from clinicflow.privacy.rights.erase import subject_erase
from clinicflow.privacy.rights.export import build_archive, subject_export
from clinicflow.privacy.rights.requests import request_close, request_list, request_open
from clinicflow.privacy.rights.restrict import subject_restrict, subject_restriction_lift
from clinicflow.privacy.selectors import request_get

router = Router(tags=["privacy"])
PERM = "privacy.requests"


class SubjectRequestOut(Schema):
    id: str
    patient_id: str
    kind: str = Field(..., description="export, correction, erasure, restriction or withdrawal")
    status: str = Field(..., description="open, done or refused")
    received_at: dt.datetime
    due_at: dt.datetime = Field(..., description="when the law wants it answered (earliest of the laws)")
    completed_at: dt.datetime | None
    overdue: bool
    outcome: dict[str, Any] = Field(..., description="what was done; for an erasure: erased, held, why")


class SubjectIn(Schema):
    model_config = ConfigDict(extra="forbid")
    patient_id: str = Field(..., max_length=40)


class AccessOut(Schema):
    request: SubjectRequestOut
    data: dict[str, Any] = Field(..., description="everything held on the patient, as in export.json")


class RectificationIn(SubjectIn):
    last_name: str | None = Field(None, max_length=100)
    first_name: str | None = Field(None, max_length=100)
    middle_name: str | None = Field(None, max_length=100)
    sex: str | None = None
    birth_date: dt.date | None = None
    email: str | None = Field(None, max_length=254)
    phones: list[str] | None = Field(None, max_length=5)
    preferred_language: str | None = None


class ErasureIn(SubjectIn):
    confirm: bool = Field(False, description="must be true: an erasure cannot be undone")


class RestrictionIn(SubjectIn):
    reason: str = Field("", max_length=500)


class WithdrawalIn(SubjectIn):
    purposes: list[str] | None = Field(None, max_length=10, description="default: every granted one")


class RequestFilters(Schema):
    status: str | None = None
    kind: str | None = None
    patient_id: str | None = None


def request_out(row: SubjectRequest, now: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "id": str(row.pk),
        "patient_id": str(row.patient_id),
        "kind": row.kind,
        "status": row.status,
        "received_at": row.received_at,
        "due_at": row.due_at,
        "completed_at": row.completed_at,
        "overdue": row.is_overdue(now or timezone.now()),
        "outcome": row.outcome,
    }


def _patient(request: ApiRequest, payload: SubjectIn) -> Patient:
    return patient_get(org=request.org, patient_id=payload.patient_id, with_phones=False)


@router.get("/requests", response={200: list[SubjectRequestOut], **ERRORS})
@api_perm(PERM, audit_object="subject_request")
def requests_list(request: ApiRequest, filters: Query[RequestFilters]) -> list[dict[str, Any]]:
    """The organisation's data-subject requests, newest first, each with its deadline and status;
    filter by ``status``, ``kind`` or ``patient_id``."""
    for name, value, allowed in (
        ("status", filters.status, RequestStatus.values),
        ("kind", filters.kind, RequestKind.values),
    ):
        if value is not None and value not in allowed:
            raise ValidationFailed(f"{name}: one of {', '.join(allowed)}", fields={name: ["unknown value"]})
    patient_id = None
    if filters.patient_id is not None:
        patient_id = parse_uuid(filters.patient_id)
        if patient_id is None:
            raise ValidationFailed("patient_id: not a valid id", fields={"patient_id": ["not a valid id"]})
    rows = request_list(org=request.org, status=filters.status, kind=filters.kind, patient_id=patient_id)
    now = timezone.now()
    return [request_out(r, now) for r in rows]


@router.post("/requests/access", response={201: AccessOut, **ERRORS})
@api_perm(PERM, audit_object="subject_request")
def request_access(request: ApiRequest, payload: SubjectIn) -> Status[dict[str, Any]]:
    """Right of access: everything held on the patient as JSON (photos are in the ZIP export)."""
    patient = _patient(request, payload)
    row = request_open(org=request.org, patient_id=patient.pk, kind=RequestKind.EXPORT, actor=request.auth)
    _archive, data = build_archive(request.org, patient)
    counts = {label: len(rows) for label, rows in data["records"].items()}
    request_close(row, outcome={"records": counts, "files": len(data["files"]), "format": "json"})
    audit_record(
        org=request.org,
        actor=request.auth,
        action=AuditAction.EXPORT,
        object_type="patient",
        object_id=patient.pk,
        request=request,
    )
    return Status(201, {"request": request_out(row), "data": data})


@router.post("/requests/export", response={200: None, **ERRORS})
@api_perm(PERM, audit_object="subject_request")
def request_export(request: ApiRequest, payload: SubjectIn) -> HttpResponse:
    """Right to data portability: a ZIP of ``export.json``, ``summary.pdf`` and ``photos/``; the
    request's id is in the ``X-Subject-Request`` header."""
    patient = _patient(request, payload)
    row, archive = subject_export(org=request.org, actor=request.auth, patient=patient, request=request)
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="patient-{patient.pk}.zip"'
    response["Cache-Control"] = "no-store"
    response["X-Subject-Request"] = str(row.pk)
    return response


@router.post("/requests/rectification", response={201: SubjectRequestOut, **ERRORS})
@api_perm(PERM, audit_object="subject_request")
def request_rectification(request: ApiRequest, payload: RectificationIn) -> Status[dict[str, Any]]:
    """Right to rectification: the given fields are corrected (validated as on the patient card; 422
    names a bad field and logs nothing)."""
    patient = _patient(request, payload)
    given = payload.model_fields_set - {"patient_id"}
    if not given:
        raise ValidationFailed("give at least one field to correct", fields={"last_name": ["nothing given"]})
    data = PatientData(**payload.model_dump(include=given))
    data.given |= given
    row = subject_correct(org=request.org, actor=request.auth, patient=patient, data=data, request=request)
    return Status(201, request_out(row))


@router.post("/requests/erasure", response={201: SubjectRequestOut, **ERRORS})
@api_perm(PERM, audit_object="subject_request")
def request_erasure(request: ApiRequest, payload: ErasureIn) -> Status[dict[str, Any]]:
    """Right to erasure: what the law allows is erased or pseudonymised, the rest held for its
    retention period; the outcome says which was which. Needs ``confirm: true``."""
    if not payload.confirm:
        raise ValidationFailed("confirm: an erasure cannot be undone", fields={"confirm": ["must be true"]})
    patient = _patient(request, payload)
    row = subject_erase(org=request.org, actor=request.auth, patient=patient, request=request)
    return Status(201, request_out(row))


@router.post("/requests/restriction", response={201: SubjectRequestOut, **ERRORS})
@api_perm(PERM, audit_object="subject_request")
def request_restriction(request: ApiRequest, payload: RestrictionIn) -> Status[dict[str, Any]]:
    """Right to restriction: the patient is flagged (left out of marketing audiences, sent only the
    messages of their own care) and every optional processing (marketing, photo publication,
    cross-border transfer) stops at once; the records are kept. 409 when restricted already."""
    patient = _patient(request, payload)
    row = subject_restrict(
        org=request.org, actor=request.auth, patient=patient, reason=payload.reason, request=request
    )
    return Status(201, request_out(row))


@router.post("/requests/restriction/lift", response={201: SubjectRequestOut, **ERRORS})
@api_perm(PERM, audit_object="subject_request")
def request_restriction_lift(request: ApiRequest, payload: RestrictionIn) -> Status[dict[str, Any]]:
    """Lift a restriction (tell the patient first): the flag is cleared, with the reason logged;
    withdrawn consents stay withdrawn. 409 when the patient is not restricted."""
    patient = _patient(request, payload)
    row = subject_restriction_lift(
        org=request.org, actor=request.auth, patient=patient, reason=payload.reason, request=request
    )
    return Status(201, request_out(row))


@router.post("/requests/withdrawal", response={201: SubjectRequestOut, **ERRORS})
@api_perm(PERM, audit_object="subject_request")
def request_withdrawal(request: ApiRequest, payload: WithdrawalIn) -> Status[dict[str, Any]]:
    """Withdrawal of consents (the given purposes, default every granted one), effective everywhere."""
    if payload.purposes is not None:
        unknown = [p for p in payload.purposes if p not in ConsentPurpose.values]
        if unknown:
            raise ValidationFailed(
                f"purposes: unknown purpose {unknown[0][:40]!r}", fields={"purposes": ["unknown purpose"]}
            )
    patient = _patient(request, payload)
    row = subject_withdraw(
        org=request.org, actor=request.auth, patient=patient, purposes=payload.purposes, request=request
    )
    return Status(201, request_out(row))


# declared last: its pattern would otherwise take /requests/access and the other rights' paths
@router.get("/requests/{uuid:request_id}", response={200: SubjectRequestOut, **ERRORS})
@api_perm(PERM, audit_object="subject_request")
def request_detail(request: ApiRequest, request_id: uuid.UUID) -> dict[str, Any]:
    """One request with its status and outcome; another organisation's id is a 404."""
    return request_out(request_get(org=request.org, request_id=request_id))
