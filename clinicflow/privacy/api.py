"""Breach-register API: list, read and register incidents (``privacy.incidents``: owner, clinic
manager). Thin handlers over the selectors and services the pages use. The data-subject rights
endpoints (``/privacy/requests``) are in ``rights_api`` and mounted here."""

from typing import Any

from django.utils import timezone
from ninja import Router
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.core.api import ERRORS
from clinicflow.core.audit import audit_record
from clinicflow.core.models import AuditAction
from clinicflow.privacy import selectors, services
from clinicflow.privacy.models import Incident
from clinicflow.privacy.rights_api import router as rights_router
from clinicflow.privacy.schemas import IncidentIn, IncidentOut, IncidentSummaryOut, incident_out, summary_out

router = Router(tags=["privacy"])
PERM = "privacy.incidents"


def _out(request: ApiRequest, incident: Incident) -> dict[str, Any]:
    org = request.org
    deadlines = selectors.incident_deadlines(org=org, incident=incident)
    affected = selectors.affected_count(org=org, incident=incident)
    return incident_out(incident, deadlines, affected, timezone.now())


@router.get("/incidents", response={200: list[IncidentSummaryOut], **ERRORS})
@api_perm(PERM)
def incident_list(request: ApiRequest) -> list[dict[str, Any]]:
    """Every incident, newest discovery first, with its next pending deadline."""
    now = timezone.now()
    return [summary_out(row, now) for row in selectors.incident_list(org=request.org, now=now)]


@router.post("/incidents", response={201: IncidentOut, **ERRORS})
@api_perm(PERM)
def incident_create(request: ApiRequest, payload: IncidentIn) -> Status[dict[str, Any]]:
    """Register an incident; its deadlines follow from its jurisdictions (by default the
    organisation's) and the time of discovery. 422 naming a bad field."""
    incident = services.incident_create(
        org=request.org,
        actor=request.auth,
        details=payload.details(),
        jurisdictions=payload.jurisdictions,
        request=request,
    )
    return Status(201, _out(request, incident))


@router.get("/incidents/{incident_id}", response={200: IncidentOut, **ERRORS})
@api_perm(PERM, audit_object="incident")
def incident_detail(request: ApiRequest, incident_id: str) -> dict[str, Any]:
    """One incident with its deadlines; another organisation's id is a 404."""
    incident = selectors.incident_get(org=request.org, incident_id=incident_id)
    audit_record(
        org=request.org,
        actor=request.auth,
        action=AuditAction.VIEW,
        object_type="incident",
        object_id=incident.pk,
        request=request,
    )
    return _out(request, incident)


router.add_router("", rights_router)
