"""``Patient``: read, search (identifier, name, phone, birthdate) and create. Personal data: every
read and search is audited as the REST patients API audits them."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, HttpResponse

from clinicflow.accounts.api_auth import ApiRequest
from clinicflow.accounts.breakglass import access_denied_record, access_record, patient_access
from clinicflow.core.audit import audit_in_statement, audit_record
from clinicflow.core.models import AuditAction
from clinicflow.core.phones import try_normalize
from clinicflow.fhir import search, selectors
from clinicflow.fhir.errors import FhirError, invalid
from clinicflow.fhir.mapping.common import PATIENT_SYSTEM, resource_of
from clinicflow.fhir.mapping.patient import patient_to_fhir
from clinicflow.fhir.services import patient_create_fhir
from clinicflow.fhir.views.base import fhir_endpoint, read_json, respond, searchset
from clinicflow.patients.selectors import default_region, patient_get

PARAMS = {"identifier", "name", "phone", "birthdate"}


@fhir_endpoint({"GET": "patients.view", "POST": "patients.edit"}, "patient")
def patient_type(request: HttpRequest) -> HttpResponse:
    req = cast(ApiRequest, request)
    return _create(req) if request.method == "POST" else _search(req)


@fhir_endpoint({"GET": "patients.view"}, "patient")
def patient_read(request: HttpRequest, patient_id: str) -> HttpResponse:
    req = cast(ApiRequest, request)
    org, user = req.org, req.api_user
    patient = patient_get(org=org, patient_id=patient_id)
    access = patient_access(org=org, user=user, patient_id=patient.pk, branch_id=patient.branch_id)
    if not access.opens:
        access_denied_record(org=org, actor=user, object_type="patient", object_id=patient.pk, request=req)
        raise FhirError(403, "your role or branch does not give access to this patient")
    idents = selectors.identifiers_of(org=org, resource_type="Patient", ids=[patient.pk])
    body = patient_to_fhir(patient, can=access.can, identifiers=idents.get(patient.pk, []))
    access_record(
        access,
        org=org,
        actor=user,
        object_type="patient",
        object_id=patient.pk,
        fields=sorted(body),
        request=req,
    )
    return respond(body)


def _search(request: ApiRequest) -> HttpResponse:
    org, user = request.org, request.api_user
    params = request.GET
    search.check_params(params, PARAMS)
    page = search.page_of(params)
    query = selectors.PatientQuery(name=search.one(params, "name"))
    phone = search.one(params, "phone")
    if phone is not None:
        if not user.has_perm_cf("patients.view_contacts"):
            raise FhirError(403, "your role may not search by phone (patients.view_contacts)")
        e164 = try_normalize(phone, default_region(org))
        if e164 is None:
            raise invalid("phone must be a whole phone number, in E.164 (+79161234567)", "phone")
        query = selectors.PatientQuery(name=query.name, phone_e164=e164)
    ident = search.one(params, "identifier")
    if ident is not None:
        system, value = search.token(ident)
        query = selectors.PatientQuery(
            name=query.name, phone_e164=query.phone_e164, ident_system=system, ident_value=value
        )
    if params.getlist("birthdate"):
        query = selectors.PatientQuery(
            name=query.name,
            phone_e164=query.phone_e164,
            ident_system=query.ident_system,
            ident_value=query.ident_value,
            birthdate=search.date_q(params, "birthdate", "birth_date", dates=True),
        )
    fields = sorted(k for k in params if k in PARAMS)
    # the audit row rides on the search's own statement where it can (one round trip less)
    audit = audit_in_statement(
        org=org, actor=user, action=AuditAction.LIST, object_type="patient", fields=fields, request=request
    )
    hits = selectors.patient_search(
        org=org, query=query, own_system=PATIENT_SYSTEM, offset=page.offset, count=page.count, audit=audit
    )
    resources = [
        patient_to_fhir(h.patient, can=user.has_perm_cf, identifiers=h.identifiers, phones=h.phones)
        for h in hits
    ]
    if audit is None or not audit.written:
        audit_record(
            org=org,
            actor=user,
            action=AuditAction.LIST,
            object_type="patient",
            fields=fields,
            request=request,
        )
    return respond(searchset(request, resources, page))


def _create(request: ApiRequest) -> HttpResponse:
    org, user = request.org, request.api_user
    resource = resource_of(read_json(request), "Patient")
    patient, created = patient_create_fhir(org=org, actor=user, resource=resource, request=request)
    patient = patient_get(org=org, patient_id=patient.pk)
    idents = selectors.identifiers_of(org=org, resource_type="Patient", ids=[patient.pk])
    body = patient_to_fhir(patient, can=user.has_perm_cf, identifiers=idents.get(patient.pk, []))
    location = request.build_absolute_uri(f"{request.path.rstrip('/')}/{patient.pk}")
    return respond(body, 201 if created else 200, {"Location": location})
