"""The feedback app's API, mounted under /api/v1/: surveys (created for an appointment, answered with
the link once) and complaints (list, status changes)."""

import datetime as dt
from typing import Any

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.booking.selectors import appointment_get
from clinicflow.core.api import ERRORS
from clinicflow.feedback.models import Complaint, Survey
from clinicflow.feedback.selectors import complaints as complaint_sel
from clinicflow.feedback.selectors import settings as settings_sel
from clinicflow.feedback.selectors import surveys as survey_sel
from clinicflow.feedback.services import complaints as complaint_svc
from clinicflow.feedback.services import surveys as survey_svc

router = Router(tags=["feedback"])


class SurveyIn(Schema):
    appointment: str = Field(..., description="a done appointment")
    kind: str = Field("after_visit", description="after_visit or settled")
    send: bool = Field(True, description="queue the link to the patient (SMS, else e-mail)")


class AnswerOut(Schema):
    nps: int
    csat: int
    result: int | None
    expectation: int | None
    tags: list[str]
    comment: str
    answered_at: dt.datetime


class SurveyOut(Schema):
    id: str
    appointment: str
    patient: str
    doctor: str
    branch: str
    kind: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    expires_at: dt.datetime
    answered_at: dt.datetime | None
    answer: AnswerOut | None = None


class SurveyCreatedOut(SurveyOut):
    link: str = Field(..., description="the survey's link (shown only now; a new request replaces it)")


class ComplaintOut(Schema):
    id: str
    patient: str
    branch: str
    doctor: str | None
    owner: str | None
    reason: str
    status: str = Field(..., description="new, in_progress, resolved or closed")
    deadline: dt.datetime
    overdue: bool
    resolution: str
    created_at: dt.datetime
    closed_at: dt.datetime | None


class ComplaintPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[ComplaintOut]


class ComplaintParams(Schema):
    view: str = Field("open", description="open, overdue, resolved or all")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class ComplaintChangeIn(Schema):
    status: str = Field(..., description="in_progress, resolved or closed")
    note: str = Field("", description="required to resolve or close: the resolution")
    owner: str | None = Field(None, description="a manager's or owner's user id")


def _survey_out(request: ApiRequest, s: Survey) -> dict[str, Any]:
    answer = survey_sel.answer_of(org=request.org, survey=s) if s.answered_at else None
    return {
        "id": str(s.pk),
        "appointment": str(s.appointment_id),
        "patient": str(s.patient_id),
        "doctor": str(s.doctor_id),
        "branch": str(s.branch_id),
        "kind": s.kind,
        "created_at": s.created_at,
        "sent_at": s.sent_at,
        "expires_at": s.expires_at,
        "answered_at": s.answered_at,
        "answer": (
            {
                "nps": answer.nps,
                "csat": answer.csat,
                "result": answer.result,
                "expectation": answer.expectation,
                "tags": [str(t) for t in answer.tags],
                "comment": answer.comment,
                "answered_at": answer.answered_at,
            }
            if answer
            else None
        ),
    }


def _complaint_out(c: Complaint) -> dict[str, Any]:
    return {
        "id": str(c.pk),
        "patient": str(c.patient_id),
        "branch": str(c.branch_id),
        "doctor": str(c.doctor_id) if c.doctor_id else None,
        "owner": str(c.owner_id) if c.owner_id else None,
        "reason": c.reason,
        "status": c.status,
        "deadline": c.deadline,
        "overdue": c.is_overdue,
        "resolution": c.resolution,
        "created_at": c.created_at,
        "closed_at": c.closed_at,
    }


@router.post("/surveys", response={201: SurveyCreatedOut, **ERRORS})
@api_perm("feedback.send", audit_object="survey")
def survey_create(request: ApiRequest, payload: SurveyIn) -> Status[dict[str, Any]]:
    """Create the survey of a done appointment (or replace the link of its unanswered survey) and
    answer with the link; 409 when it was answered already."""
    org = request.org
    appt = appointment_get(org=org, appointment_id=payload.appointment)
    survey, token = survey_svc.survey_create(
        org=org, actor=request.auth, appointment=appt, kind=payload.kind, send=payload.send, request=request
    )
    s = survey_sel.survey_get(org=org, survey_id=survey.pk)
    return Status(201, {**_survey_out(request, s), "link": survey_svc.survey_url(token)})


@router.get("/surveys/{survey_id}", response={200: SurveyOut, **ERRORS})
@api_perm("feedback.view", audit_object="survey")
def survey_detail(request: ApiRequest, survey_id: str) -> dict[str, Any]:
    """One survey and its answer (the link is never shown again)."""
    return _survey_out(request, survey_sel.survey_get(org=request.org, survey_id=survey_id))


@router.get("/complaints", response={200: ComplaintPageOut, **ERRORS})
@api_perm("complaints.manage", audit_object="complaint")
def complaint_list(request: ApiRequest, params: Query[ComplaintParams]) -> dict[str, Any]:
    """Complaints: open (default), overdue, resolved or all; by deadline."""
    view = params.view if params.view in complaint_sel.VIEWS else "open"
    count, page = complaint_sel.complaint_list(
        org=request.org, view=view, limit=params.limit, offset=params.offset
    )
    return {
        "count": count,
        "limit": params.limit,
        "offset": params.offset,
        "items": [_complaint_out(c) for c in page],
    }


@router.post("/complaints/{complaint_id}/status", response={200: ComplaintOut, **ERRORS})
@api_perm("complaints.manage", audit_object="complaint")
def complaint_status(request: ApiRequest, complaint_id: str, payload: ComplaintChangeIn) -> dict[str, Any]:
    """Move a complaint along its trail (new → in progress → resolved / closed with the resolution)."""
    org = request.org
    complaint = complaint_sel.complaint_get(org=org, complaint_id=complaint_id)
    owner = settings_sel.owner_get(org=org, user_id=payload.owner) if payload.owner else None
    changed = complaint_svc.complaint_change(
        org=org,
        actor=request.auth,
        complaint=complaint,
        status=payload.status,
        note=payload.note,
        owner=owner,
        request=request,
    )
    return _complaint_out(complaint_sel.complaint_get(org=org, complaint_id=changed.pk))
