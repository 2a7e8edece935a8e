"""``Appointment``: read, search (patient, date, status, practitioner) and create (booked through
``booking.services``, so every booking rule applies: a taken time is a 409 OperationOutcome)."""

from __future__ import annotations

import uuid
from typing import cast

from django.http import HttpRequest, HttpResponse, QueryDict

from clinicflow.accounts.api_auth import ApiRequest
from clinicflow.booking.selectors import appointment_get
from clinicflow.core.audit import audit_record
from clinicflow.core.models import AuditAction
from clinicflow.fhir import search, selectors
from clinicflow.fhir.errors import invalid
from clinicflow.fhir.mapping.appointment import FHIR_STATUSES, STATUS_IN, appointment_to_fhir
from clinicflow.fhir.mapping.common import resource_of, uuid_or_none
from clinicflow.fhir.services import appointment_create_fhir
from clinicflow.fhir.views.base import fhir_endpoint, read_json, respond, searchset

PARAMS = {"patient", "date", "status", "practitioner"}
NOBODY = uuid.UUID(int=0)  # an id no row has: a well-formed reference to nothing finds nothing


@fhir_endpoint({"GET": "booking.view", "POST": "booking.book"}, "appointment")
def appointment_type(request: HttpRequest) -> HttpResponse:
    req = cast(ApiRequest, request)
    return _create(req) if request.method == "POST" else _search(req)


@fhir_endpoint({"GET": "booking.view"}, "appointment")
def appointment_read(request: HttpRequest, appointment_id: str) -> HttpResponse:
    req = cast(ApiRequest, request)
    appt = appointment_get(org=req.org, appointment_id=appointment_id)
    audit_record(
        org=req.org,
        actor=req.api_user,
        action=AuditAction.VIEW,
        object_type="appointment",
        object_id=appt.pk,
        request=req,
    )
    return respond(appointment_to_fhir(appt))


def _ref(params: QueryDict, name: str, kind: str) -> uuid.UUID | None:
    raw = search.one(params, name)
    if raw is None:
        return None
    return uuid_or_none(search.reference(raw, kind, name)) or NOBODY


def _search(request: ApiRequest) -> HttpResponse:
    org, user = request.org, request.api_user
    params = request.GET
    search.check_params(params, PARAMS)
    page = search.page_of(params)
    statuses: tuple[str, ...] | None = None
    status = search.one(params, "status")
    if status is not None:
        wanted = status.split(",")
        unknown = [s for s in wanted if s not in FHIR_STATUSES]
        if unknown:
            raise invalid(f"status must be among {', '.join(FHIR_STATUSES)}", "status")
        statuses = tuple(ours for s in wanted for ours in STATUS_IN.get(s, []))
    query = selectors.AppointmentQuery(
        patient_id=_ref(params, "patient", "Patient"),
        doctor_id=_ref(params, "practitioner", "Practitioner"),
        statuses=statuses,
        date=search.date_q(params, "date", "start_at") if params.getlist("date") else None,
    )
    rows = selectors.appointment_search(org=org, query=query, offset=page.offset, count=page.count)
    audit_record(
        org=org,
        actor=user,
        action=AuditAction.LIST,
        object_type="appointment",
        fields=sorted(k for k in params if k in PARAMS),
        request=request,
    )
    return respond(searchset(request, [appointment_to_fhir(a) for a in rows], page))


def _create(request: ApiRequest) -> HttpResponse:
    org, user = request.org, request.api_user
    resource = resource_of(read_json(request), "Appointment")
    appt, created = appointment_create_fhir(org=org, actor=user, resource=resource, request=request)
    appt = appointment_get(org=org, appointment_id=appt.pk)
    location = request.build_absolute_uri(f"{request.path.rstrip('/')}/{appt.pk}")
    return respond(appointment_to_fhir(appt), 201 if created else 200, {"Location": location})
