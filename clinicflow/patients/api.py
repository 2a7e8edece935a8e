"""Patients API: thin handlers over selectors and services."""

import datetime as dt
from typing import Any

from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.accounts.breakglass import PatientAccess, access_denied_record, access_record, patient_access
from clinicflow.accounts.models import User
from clinicflow.core.api import ERRORS
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import PermissionDenied, ValidationFailed
from clinicflow.core.models import AuditAction, Organization
from clinicflow.core.selectors import branch_named
from clinicflow.patients import selectors, services
from clinicflow.patients.models import Patient, Sex, Source
from clinicflow.patients.schemas import (
    ConsentIn,
    ConsentOut,
    MergeIn,
    PatientIn,
    PatientOut,
    PatientPageOut,
    PatientPatch,
    consent_out,
    patient_out,
)
from clinicflow.patients.timeline import (
    MAX_PAGE,
    PAGE_SIZE,
    TimelineEvent,
    Viewer,
    parse_before,
    timeline_page,
)

router = Router(tags=["patients"])


def _card(request: ApiRequest, patient_id: str, *, write: bool = False) -> tuple[Patient, PatientAccess]:
    """The organisation's patient and the caller's access to the card; 403 (audited) when the role
    or branch does not open it (``write``: change it), unless an emergency grant opens it for reading.
    The grant is opened on the card's page (``/patients/{id}/emergency/``)."""
    org, user = request.org, request.auth
    patient = selectors.patient_get(org=org, patient_id=patient_id)
    access = patient_access(org=org, user=user, patient_id=patient.pk, branch_id=patient.branch_id)
    if not (access.writes if write else access.opens):
        access_denied_record(
            org=org, actor=user, object_type="patient", object_id=patient.pk, request=request
        )
        code = "break_glass_available" if access.may_break_glass and not write else None
        raise PermissionDenied("your role or branch does not give access to this patient", code=code)
    return patient, access


class ListParams(Schema):
    q: str = Field(
        "",
        max_length=100,
        description=(
            "name, a whole e-mail address, or a whole phone number in any format (contacts are encrypted:"
            " a fragment finds nobody); names only for a role that may not see contacts"
        ),
    )
    branch: str | None = Field(None, description="branch id")
    source: str | None = None
    sex: str | None = None
    sort: str = Field("name", description="one of " + ", ".join(selectors.SORTS))
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=10_000_000)


@router.get("", response={200: PatientPageOut, **ERRORS}, exclude_unset=True)
@api_perm("patients.view")
def patient_list(request: ApiRequest, params: Query[ListParams]) -> dict[str, Any]:
    """List the organisation's patients. `q` searches names, e-mail, or phones in any format; for a
    role without `patients.view_contacts` (the marketer) it searches names only."""
    org, user = request.org, request.auth
    if params.sort not in selectors.SORTS:
        raise HttpError(400, f"sort must be one of {', '.join(selectors.SORTS)}")
    if not 1 <= params.limit <= 200 or params.offset < 0 or params.offset > 10_000_000:
        raise ValidationFailed.field("limit", "limit must be 1..200 and offset >= 0")
    if params.source and params.source not in Source.values:
        raise ValidationFailed.field("source", f"must be one of {', '.join(Source.values)}")
    if params.sex and params.sex not in Sex.values:
        raise ValidationFailed.field("sex", f"must be one of {', '.join(Sex.values)}")
    filters = selectors.PatientFilters(
        q=params.q[:100],
        branch=branch_named(org=org, branch_id=params.branch),
        source=params.source or "",
        sex=params.sex or "",
        sort=params.sort,
        search_contacts=user.has_perm_cf("patients.view_contacts"),
    )
    qs = selectors.patient_list(org=org, filters=filters)
    items = list(qs[params.offset : params.offset + params.limit])
    audit_record(
        org=org,
        actor=user,
        action=AuditAction.LIST,
        object_type="patient",
        fields=["q"] if params.q else [],
        request=request,
    )
    return {
        "count": qs.count(),
        "limit": params.limit,
        "offset": params.offset,
        "items": [patient_out(p, user) for p in items],
    }


@router.get("/{patient_id}", response={200: PatientOut, **ERRORS}, exclude_unset=True)
@api_perm("patients.view")
def patient_detail(request: ApiRequest, patient_id: str) -> dict[str, Any]:
    org, user = request.org, request.auth
    patient, access = _card(request, patient_id)
    data = patient_out(patient, user, can=access.can)
    access_record(
        access,
        org=org,
        actor=user,
        object_type="patient",
        object_id=patient.pk,
        fields=sorted(data),
        request=request,
    )
    return data


def _data_from(payload: PatientIn | PatientPatch, org: Organization, user: User) -> services.PatientData:
    given = payload.model_fields_set
    values = payload.model_dump(exclude_unset=isinstance(payload, PatientPatch))
    if not user.has_perm_cf("patients.edit_clinical"):
        if "clinical_notes" in given and values.get("clinical_notes"):
            raise HttpError(403, "your role may not write clinical notes")
        values.pop("clinical_notes", None)
    branch_id = values.pop("branch", None)
    data = services.PatientData(**values)
    if "branch" in given:
        data.branch = branch_named(org=org, branch_id=branch_id)
        data.given.add("branch")
    if "birth_date" in given:
        data.given.add("birth_date")
    return data


@router.post("", response={201: PatientOut, **ERRORS}, exclude_unset=True)
@api_perm("patients.edit")
def patient_create(request: ApiRequest, payload: PatientIn) -> Status[dict[str, Any]]:
    """Create a patient. Phones in any format are stored as E.164 (default region: the branch's country)."""
    org, user = request.org, request.auth
    patient = services.patient_create(
        org=org, actor=user, data=_data_from(payload, org, user), request=request
    )
    return Status(201, patient_out(selectors.patient_get(org=org, patient_id=patient.pk), user))


@router.patch("/{patient_id}", response={200: PatientOut, **ERRORS}, exclude_unset=True)
@api_perm("patients.edit")
def patient_update(request: ApiRequest, patient_id: str, payload: PatientPatch) -> dict[str, Any]:
    org, user = request.org, request.auth
    patient, _access = _card(request, patient_id, write=True)
    services.patient_update(
        org=org, actor=user, patient=patient, data=_data_from(payload, org, user), request=request
    )
    return patient_out(selectors.patient_get(org=org, patient_id=patient.pk), user)


@router.get("/{patient_id}/duplicates", response={200: list[PatientOut], **ERRORS}, exclude_unset=True)
@api_perm("patients.merge")
def patient_duplicates(request: ApiRequest, patient_id: str) -> list[dict[str, Any]]:
    """Other patients sharing a phone or the e-mail: candidates for a merge."""
    org, user = request.org, request.auth
    patient, _access = _card(request, patient_id, write=True)
    phones = [p.e164 for p in patient.phones.all()]
    found = selectors.patient_duplicates(org=org, phones=phones, email=patient.email, exclude_id=patient.pk)
    return [patient_out(p, user) for p in found]


@router.post("/{patient_id}/merge", response={200: PatientOut, **ERRORS}, exclude_unset=True)
@api_perm("patients.merge")
def patient_merge(request: ApiRequest, patient_id: str, payload: MergeIn) -> dict[str, Any]:
    """Merge the patient `merge_id` into this one."""
    org, user = request.org, request.auth
    keep, _access = _card(request, patient_id, write=True)
    merge, _access = _card(request, payload.merge_id, write=True)
    services.patient_merge(org=org, actor=user, keep=keep, merge=merge, request=request)
    return patient_out(selectors.patient_get(org=org, patient_id=keep.pk), user)


@router.get("/{patient_id}/consents", response={200: list[ConsentOut], **ERRORS})
@api_perm("patients.view_consents")
def consent_list(request: ApiRequest, patient_id: str) -> list[dict[str, Any]]:
    org, user = request.org, request.auth
    patient, access = _card(request, patient_id)
    access_record(access, org=org, actor=user, object_type="consent", object_id=patient.pk, request=request)
    return [consent_out(e) for e in selectors.consent_history(org=org, patient=patient)]


@router.post("/{patient_id}/consents", response={201: ConsentOut, **ERRORS})
@api_perm("patients.edit")
def consent_create(request: ApiRequest, patient_id: str, payload: ConsentIn) -> Status[dict[str, Any]]:
    """Record a consent grant or withdrawal (append-only)."""
    org, user = request.org, request.auth
    patient, _access = _card(request, patient_id, write=True)
    e = services.consent_record(
        org=org,
        actor=user,
        patient=patient,
        purpose=payload.purpose,
        granted=payload.granted,
        method=payload.method,
        evidence=payload.evidence,
        template_version=payload.template_version,
        request=request,
    )
    return Status(201, consent_out(e))


class TimelineParams(Schema):
    before: str | None = Field(
        None, description="ISO 8601 moment: events strictly before it (the last page's next_before)"
    )
    kind: list[str] = Field(
        default_factory=list,
        description="kinds of event to list (repeatable); all the role may see when none",
    )
    limit: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE)


class TimelineEventOut(Schema):
    at: dt.datetime
    kind: str
    title: str
    detail: str
    status: str
    amount: str | None = Field(None, description='signed Decimal as a string, e.g. "-1500.00" for a refund')
    currency: str
    url: str


class TimelinePageOut(Schema):
    items: list[TimelineEventOut]
    next_before: dt.datetime | None = Field(
        None, description="pass as before= for the next page; null at the end"
    )
    kinds: list[str] = Field(..., description="the kinds of event this role may see")


def _event_out(e: TimelineEvent) -> dict[str, Any]:
    return {
        "at": e.at,
        "kind": e.kind,
        "title": e.title,
        "detail": e.detail,
        "status": e.status,
        "amount": None if e.amount is None else str(e.amount),
        "currency": e.currency,
        "url": e.url,
    }


@router.get("/{patient_id}/timeline", response={200: TimelinePageOut, **ERRORS})
@api_perm("patients.view")
def patient_timeline(request: ApiRequest, patient_id: str, params: Query[TimelineParams]) -> dict[str, Any]:
    """The patient's timeline, newest first: appointments, payments, calls, web sessions, leads,
    callbacks, messages (and whatever later apps add), each kind only for the roles that may see it;
    a service's name only with `patients.view_clinical`. Page with `before` = the last `next_before`."""
    org, user = request.org, request.auth
    patient, access = _card(request, patient_id)
    before = parse_before(params.before)
    if params.before and before is None:
        raise ValidationFailed.field("before", f"must be an ISO 8601 moment, not {params.before!r}")
    viewer = Viewer(user=user, access=access)
    page = timeline_page(
        org=org, patient=patient, viewer=viewer, kinds=params.kind, before=before, limit=params.limit
    )
    unknown = sorted(set(params.kind) - set(page.kinds))
    if unknown:
        raise ValidationFailed.field("kind", f"unknown kind {unknown[0]!r}: one of {', '.join(page.kinds)}")
    access_record(
        access,
        org=org,
        actor=user,
        object_type="patient",
        object_id=patient.pk,
        fields=[f"timeline.{k}" for k in (params.kind or page.kinds)],
        request=request,
    )
    return {
        "items": [_event_out(e) for e in page.events],
        "next_before": page.next_before,
        "kinds": list(page.kinds),
    }
