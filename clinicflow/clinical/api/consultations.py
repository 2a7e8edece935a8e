"""The API of the clinical records: consultations (full paths, such as /consultations) and their quotes."""

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.accounts.breakglass import PatientAccess, access_denied_record, access_record, patient_access
from clinicflow.booking.selectors import appointment_get
from clinicflow.clinical.models.consultations import Consultation, Quote
from clinicflow.clinical.selectors import consultations as selectors
from clinicflow.clinical.services import consultations as services
from clinicflow.clinical.services import quotes as quote_services
from clinicflow.core.api import ERRORS
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import PermissionDenied
from clinicflow.core.models import AuditAction
from clinicflow.patients.models import Patient
from clinicflow.patients.selectors import patient_get

router = Router(tags=["clinical"])


class ConsultationIn(Schema):
    appointment: str = Field(..., description="the appointment (of a consultation or first-visit service)")
    category: str | None = Field(None, description="the service group whose template applies")
    concerns: str = ""
    areas: str = ""
    goals: str = ""
    contraindications: dict[str, bool | str] = Field(default_factory=dict)
    answers: dict[str, bool | str] = Field(default_factory=dict)
    risks_discussed: str = ""
    alternatives_discussed: str = ""
    recovery_timeline: str = ""
    result_visible: str = ""
    expectation: int | None = Field(None, description="how big a change the patient expects, 0-10")
    expectation_words: str = ""
    outcome: str = Field("", description="booked, thinking, declined or empty")
    outcome_reason: str = Field("", description="required when declined")


class ConsultationOut(Schema):
    id: str
    appointment: str
    patient: str
    doctor: str
    category: str
    template_version: int | None
    concerns: str
    areas: str
    goals: str
    contraindications: dict[str, Any]
    answers: dict[str, Any]
    risks_discussed: str
    alternatives_discussed: str
    recovery_timeline: str
    result_visible: str
    expectation: int
    expectation_words: str
    outcome: str
    outcome_reason: str
    created_at: dt.datetime
    quotes: list[str]


class ConsultationPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[ConsultationOut]


class ListParams(Schema):
    patient: str | None = Field(None, description="patient id")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class LineIn(Schema):
    kind: str = Field(..., description="procedure, drug, anaesthesia, consumable or follow_up")
    service: str | None = Field(None, description="catalogue service id: its price on today's date applies")
    description: str = ""
    unit_price: Decimal | None = Field(None, description="for a line without a service")
    quantity: Decimal = Decimal(1)
    unit: str = ""
    discount_kind: str = Field("", description="percent, amount or empty")
    discount_value: Decimal = Decimal(0)
    discount_reason: str = ""


class QuoteIn(Schema):
    lines: list[LineIn]
    valid_until: dt.date | None = None
    note: str = ""


class LineOut(Schema):
    position: int
    kind: str
    service: str | None
    description: str
    unit_price: Decimal
    quantity: Decimal
    discount_kind: str
    discount_value: Decimal
    discount_reason: str
    total: Decimal
    appointment: str | None = Field(None, description="the appointment booked for it when accepted")


class QuoteOut(Schema):
    id: str
    consultation: str
    status: str = Field(..., description="draft, sent, accepted, declined or expired")
    currency: str
    total: Decimal
    priced_on: dt.date
    valid_until: dt.date
    lines: list[LineOut]


def _gate(request: ApiRequest, patient: Patient, *, write: bool = False) -> PatientAccess:
    """The caller's access to the patient's card; 403 (audited) when the role or branch refuses."""
    org, user = request.org, request.auth
    access = patient_access(org=org, user=user, patient_id=patient.pk, branch_id=patient.branch_id)
    if not (access.writes if write else access.opens):
        access_denied_record(
            org=org, actor=user, object_type="patient", object_id=patient.pk, request=request
        )
        raise PermissionDenied("your role or branch does not give access to this patient")
    return access


def _out(c: Consultation, quotes: list[Quote]) -> dict[str, Any]:
    version = c.template_version
    return {
        "id": str(c.pk),
        "appointment": str(c.appointment_id),
        "patient": str(c.patient_id),
        "doctor": str(c.doctor_id),
        "category": c.category,
        "template_version": version.number if version else None,
        **{name: getattr(c, name) for name in (*services.TEXT_FIELDS, "result_visible", "outcome_reason")},
        "contraindications": c.contraindications,
        "answers": c.answers,
        "expectation": c.expectation,
        "outcome": c.outcome,
        "created_at": c.created_at,
        "quotes": [str(q.pk) for q in quotes],
    }


def _quote_out(request: ApiRequest, quote: Quote) -> dict[str, Any]:
    lines = selectors.quote_lines(org=request.org, quote=quote)
    return {
        "id": str(quote.pk),
        "consultation": str(quote.consultation_id),
        "status": quote.status,
        "currency": quote.currency,
        "total": quote.total,
        "priced_on": quote.priced_on,
        "valid_until": quote.valid_until,
        "lines": [
            {
                "position": li.position,
                "kind": li.kind,
                "service": str(li.service_id) if li.service_id else None,
                "description": li.description,
                "unit_price": li.unit_price,
                "quantity": li.quantity,
                "discount_kind": li.discount_kind,
                "discount_value": li.discount_value,
                "discount_reason": li.discount_reason,
                "total": li.total,
                "appointment": str(li.appointment_id) if li.appointment_id else None,
            }
            for li in lines
        ],
    }


@router.post("/consultations", response={201: ConsultationOut, **ERRORS})
@api_perm("clinical.record", audit_object="consultation")
def consultation_create(request: ApiRequest, payload: ConsultationIn) -> Status[dict[str, Any]]:
    """Record the consultation of an appointment, or answer it again (one per appointment; the template
    version of the first answer is kept). 422 names the field (e.g. `expectation` outside 0-10)."""
    org, user = request.org, request.auth
    appt = appointment_get(org=org, appointment_id=payload.appointment)
    _gate(request, appt.patient, write=True)
    consultation = services.consultation_record(
        org=org, actor=user, appointment=appt, data=payload.dict(), request=request
    )
    c = selectors.consultation_get(org=org, consultation_id=consultation.pk)
    return Status(201, _out(c, selectors.quotes_of(org=org, consultation=c)))


@router.get("/consultations", response={200: ConsultationPageOut, **ERRORS})
@api_perm("clinical.view", audit_object="consultation")
def consultation_list(request: ApiRequest, params: Query[ListParams]) -> dict[str, Any]:
    """Consultations, newest first; `patient` narrows to one patient (whose card the caller may open)."""
    org, user = request.org, request.auth
    patient_id = None
    if params.patient is not None:
        patient = patient_get(org=org, patient_id=params.patient, with_phones=False)
        patient_id = patient.pk
        access_record(
            _gate(request, patient),
            org=org,
            actor=user,
            object_type="patient",
            object_id=patient.pk,
            fields=["consultations"],
            request=request,
            action=AuditAction.LIST,
        )
    count, page = selectors.consultation_list(
        org=org,
        patient_id=patient_id,
        # a branch-bound user pages through their branch's patients (one card at a time otherwise)
        branch_id=user.branch_id if patient_id is None else None,
        limit=params.limit,
        offset=params.offset,
    )
    items = []
    for c in page:
        access = patient_access(org=org, user=user, patient_id=c.patient_id, branch_id=c.patient.branch_id)
        if access.opens:
            items.append(_out(c, []))
    if patient_id is None:
        audit_record(
            org=org, actor=user, action=AuditAction.LIST, object_type="consultation", request=request
        )
    return {"count": count, "limit": params.limit, "offset": params.offset, "items": items}


@router.get("/consultations/{consultation_id}", response={200: ConsultationOut, **ERRORS})
@api_perm("clinical.view", audit_object="consultation")
def consultation_detail(request: ApiRequest, consultation_id: str) -> dict[str, Any]:
    """One consultation with the ids of its quotes (every read is audit-logged)."""
    org, user = request.org, request.auth
    c = selectors.consultation_get(org=org, consultation_id=consultation_id)
    access = _gate(request, c.patient)
    access_record(access, org=org, actor=user, object_type="consultation", object_id=c.pk, request=request)
    return _out(c, selectors.quotes_of(org=org, consultation=c))


@router.post("/consultations/{consultation_id}/quote", response={201: QuoteOut, **ERRORS})
@api_perm("clinical.record", audit_object="consultation")
def consultation_quote(request: ApiRequest, consultation_id: str, payload: QuoteIn) -> Status[dict[str, Any]]:
    """Write a draft quote from the consultation: catalogue prices of today at its branch, discounts
    per line (percent or amount, with a reason), the exact total in the branch's currency."""
    org, user = request.org, request.auth
    c = selectors.consultation_get(org=org, consultation_id=consultation_id)
    _gate(request, c.patient, write=True)
    quote = quote_services.quote_create(
        org=org,
        actor=user,
        consultation=c,
        lines=[line.dict() for line in payload.lines],
        valid_until=payload.valid_until,
        note=payload.note,
        request=request,
    )
    return Status(201, _quote_out(request, quote))


@router.post("/quotes/{quote_id}/send", response={200: QuoteOut, **ERRORS})
@api_perm("clinical.record", audit_object="quote")
def quote_send(request: ApiRequest, quote_id: str) -> dict[str, Any]:
    """E-mail the quote to the patient through the outbox, its PDF attached, in the patient's language.
    422 when the patient has no e-mail address; 409 when the quote is accepted, declined or expired."""
    org, user = request.org, request.auth
    quote = selectors.quote_get(org=org, quote_id=quote_id)
    _gate(request, quote.patient, write=True)
    return _quote_out(request, quote_services.quote_send(org=org, actor=user, quote=quote, request=request))


@router.post("/quotes/{quote_id}/accept", response={200: QuoteOut, **ERRORS})
@api_perm("clinical.record", audit_object="quote")
def quote_accept(request: ApiRequest, quote_id: str) -> dict[str, Any]:
    """Accept the quote: each procedure session is booked with the consultation's doctor at the next free
    slot, all or nothing (409 `no_free_slot` names the line); the lines then carry their appointments."""
    org, user = request.org, request.auth
    quote = selectors.quote_get(org=org, quote_id=quote_id)
    _gate(request, quote.patient, write=True)
    quote_services.quote_accept(org=org, actor=user, quote=quote, request=request)
    return _quote_out(request, selectors.quote_get(org=org, quote_id=quote.pk))
