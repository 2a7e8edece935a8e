"""The API of the clinical records: consents — the templates with their current versions, signing a
version for a patient, a signed consent's PDF."""

import datetime as dt
from typing import Any

from django.http import HttpResponse
from ninja import Field, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.accounts.breakglass import PatientAccess, access_denied_record, access_record, patient_access
from clinicflow.clinical.models.consents import ConsentTemplate, ConsentTemplateVersion, SignedConsent
from clinicflow.clinical.selectors import consents as selectors
from clinicflow.clinical.services import consents as services
from clinicflow.clinical.views.consents import pdf_response
from clinicflow.core.api import ERRORS
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import PermissionDenied
from clinicflow.core.models import AuditAction
from clinicflow.patients.models import Patient
from clinicflow.patients.selectors import patient_get

router = Router(tags=["clinical"])


class VersionOut(Schema):
    id: str
    language: str
    number: int
    title: str
    body: str
    created_at: dt.datetime


class TemplateOut(Schema):
    id: str
    name: str
    service: str | None = Field(None, description="service id; null for a template of a whole category")
    service_category: str
    purpose: str
    current_versions: list[VersionOut] = Field(description="the current version in each language")


class SignIn(Schema):
    template_version: str = Field(description="id of the current version shown to the patient")
    language: str = Field(max_length=10, description="the version's language (en, ru, zh-hans, ...)")
    typed_name: str = Field("", max_length=200, description="the name the patient typed")
    signature: str | None = Field(
        None,
        max_length=300_000,
        description="the drawn signature: a PNG data URL (data:image/png;base64,...)",
    )


class SignedOut(Schema):
    id: str
    patient: str
    template: str
    template_version: str
    version_number: int
    language: str
    text_sha256: str = Field(description="SHA-256 of the rendered text, whitespace collapsed, Unicode NFC")
    rendered_text: str
    signer_name: str
    has_signature: bool
    signed_at: dt.datetime
    pdf_url: str


def _version_out(v: ConsentTemplateVersion) -> dict[str, Any]:
    return {
        "id": str(v.pk),
        "language": v.language,
        "number": v.number,
        "title": v.title,
        "body": v.body,
        "created_at": v.created_at,
    }


def _template_out(t: ConsentTemplate, versions: dict[str, ConsentTemplateVersion]) -> dict[str, Any]:
    return {
        "id": str(t.pk),
        "name": t.name,
        "service": str(t.service_id) if t.service_id else None,
        "service_category": t.service.category if t.service else t.service_category,
        "purpose": t.purpose,
        "current_versions": [_version_out(v) for _lang, v in sorted(versions.items())],
    }


def _signed_out(s: SignedConsent) -> dict[str, Any]:
    return {
        "id": str(s.pk),
        "patient": str(s.patient_id),
        "template": str(s.version.template_id),
        "template_version": str(s.version_id),
        "version_number": s.version.number,
        "language": s.language,
        "text_sha256": s.text_sha256,
        "rendered_text": s.rendered_text,
        "signer_name": s.signer_name,
        "has_signature": bool(s.signature_png),
        "signed_at": s.signed_at,
        "pdf_url": f"/api/v1/signed-consents/{s.pk}/pdf",
    }


def _card(request: ApiRequest, patient: Patient, *, write: bool) -> PatientAccess:
    access = patient_access(
        org=request.org, user=request.auth, patient_id=patient.pk, branch_id=patient.branch_id
    )
    if (
        not access.opens
        or (write and not access.writes)
        or (not write and not access.can("patients.view_consents"))
    ):
        access_denied_record(
            org=request.org, actor=request.auth, object_type="patient", object_id=patient.pk, request=request
        )
        raise PermissionDenied("your role or branch does not give access to this patient")
    return access


@router.get("/consent-templates", response={200: list[TemplateOut], **ERRORS})
@api_perm("consents.sign", audit_object="consent_template")
def consent_template_list(request: ApiRequest) -> list[dict[str, Any]]:
    """The organisation's active consent templates, each with its current version in every language."""
    org = request.org
    templates = selectors.template_list(org=org)
    current = selectors.current_versions(org=org, template_ids=[t.pk for t in templates])
    audit_record(
        org=org, actor=request.auth, action=AuditAction.LIST, object_type="consent_template", request=request
    )
    return [_template_out(t, current.get(t.pk, {})) for t in templates]


@router.post("/patients/{patient_id}/consents/sign", response={201: SignedOut, **ERRORS})
@api_perm("consents.sign", audit_object="signed_consent")
def consent_sign(request: ApiRequest, patient_id: str, payload: SignIn) -> Status[dict[str, Any]]:
    """Sign a consent: the server renders the version's text for the patient itself, hashes it and
    keeps it with the signature. 409 `version_not_current` when a newer version exists; 422 naming
    the field for a bad signature (not a PNG data URL, too large), a language other than the
    version's, or neither a typed name nor a signature. A treatment consent also records a
    `treatment` consent event on the patient's card."""
    org = request.org
    patient = patient_get(org=org, patient_id=patient_id, with_phones=False)
    _card(request, patient, write=True)
    version = selectors.version_get(org=org, version_id=payload.template_version)
    signed = services.consent_sign(
        org=org,
        actor=request.auth,
        patient=patient,
        version=version,
        language=payload.language,
        typed_name=payload.typed_name,
        signature=payload.signature,
        request=request,
    )
    return Status(201, _signed_out(signed))


PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


@router.get(
    "/signed-consents/{signed_id}/pdf",
    response={200: None, **ERRORS},
    openapi_extra={"responses": {200: {"description": "The signed consent as PDF", "content": PDF}}},
)
@api_perm("patients.view_consents", audit_object="signed_consent")
def signed_consent_pdf(request: ApiRequest, signed_id: str) -> HttpResponse:
    """The PDF of a signed consent (text, signer, time, IP, SHA-256, drawn signature); audited."""
    org = request.org
    signed = selectors.signed_get(org=org, signed_id=signed_id)
    access = _card(request, signed.patient, write=False)
    access_record(
        access, org=org, actor=request.auth, object_type="signed_consent", object_id=signed.pk,
        fields=["text", "signature"], request=request, action=AuditAction.EXPORT,
    )  # fmt: skip
    return pdf_response(signed)
