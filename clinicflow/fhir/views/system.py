"""The server's own endpoints: ``GET metadata`` (the CapabilityStatement) and ``POST /`` (a
transaction Bundle of Patients and Appointments, all or nothing)."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest, HttpResponse

from clinicflow.accounts.api_auth import ApiRequest
from clinicflow.fhir.capability import capability_statement
from clinicflow.fhir.errors import unprocessable
from clinicflow.fhir.services import bundle_import
from clinicflow.fhir.services.bundle import entry_kinds
from clinicflow.fhir.views.base import fhir_endpoint, read_json, require, respond

MAX_HTTP_ENTRIES = 1000  # larger files go through ``clinicflow fhir import``
PERMISSION_OF = {"Patient": "patients.edit", "Appointment": "booking.book"}


@fhir_endpoint({"GET": None}, "fhir")
def metadata(request: HttpRequest) -> HttpResponse:
    return respond(capability_statement(request.build_absolute_uri(request.path.removesuffix("metadata"))))


@fhir_endpoint({"POST": "patients.view"}, "fhir_bundle")
def root(request: HttpRequest) -> HttpResponse:
    req = cast(ApiRequest, request)
    bundle: Any = read_json(req)
    if (
        isinstance(bundle, dict)
        and bundle.get("resourceType") == "Bundle"
        and bundle.get("type") != "transaction"
    ):
        raise unprocessable(
            "POST a Bundle of type transaction here (collections: clinicflow fhir import)", "Bundle.type"
        )
    for kind in sorted(entry_kinds(bundle)):
        require(req, PERMISSION_OF[kind], kind.lower())
    result = bundle_import(
        org=req.org, actor=req.api_user, bundle=bundle, request=req, max_entries=MAX_HTTP_ENTRIES
    )
    return respond(result.response_bundle())
