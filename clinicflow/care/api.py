"""The care app's API, mounted under /api/v1/: follow-up tasks and their outcomes, recall lists, their
members and contacts."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.accounts.roles import Role
from clinicflow.care.models import ContactChannel, FollowUpTask, RecallContact
from clinicflow.care.selectors import followups as task_sel
from clinicflow.care.selectors import recall as recall_sel
from clinicflow.care.services import followups as task_svc
from clinicflow.care.services import recall as recall_svc
from clinicflow.core.api import ERRORS
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.selectors import branch_named
from clinicflow.patients.selectors import patient_get

router = Router(tags=["care"])


class TaskOut(Schema):
    id: uuid.UUID
    kind: str = Field(description="`followup` (this app) or `callback` (a missed call: read-only here)")
    action: str
    patient: uuid.UUID | None
    patient_name: str
    appointment: uuid.UUID | None
    branch: uuid.UUID | None
    due_on: dt.date | None
    due_at: dt.datetime
    assignee: uuid.UUID | None
    assignee_role: str
    status: str
    outcome: str
    reason: str
    script: str
    url: str


class TaskPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[TaskOut]


class TaskParams(Schema):
    view: str = Field("today", description="one of " + ", ".join(task_sel.VIEWS))
    who: str = Field("me", description="`me`, `all` or a role")
    branch: str | None = Field(None, description="branch id")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class OutcomeIn(Schema):
    outcome: str = Field(description="reached, no_answer, booked or declined")
    reason: str = Field("", max_length=300, description="required when declined")


def task_out(t: FollowUpTask) -> dict[str, Any]:
    return {
        "id": t.pk,
        "kind": "followup",
        "action": t.action,
        "patient": t.patient_id,
        "patient_name": t.patient.full_name,
        "appointment": t.appointment_id,
        "branch": t.branch_id,
        "due_on": t.due_on,
        "due_at": t.due_at,
        "assignee": t.assignee_id,
        "assignee_role": t.assignee_role,
        "status": t.status,
        "outcome": t.outcome,
        "reason": t.reason,
        "script": t.step.script,
        "url": f"/patients/{t.patient_id}/",
    }


def callback_out(c: task_sel.CallbackRow) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": "callback",
        "action": "call",
        "patient": None,
        "patient_name": "",
        "appointment": None,
        "branch": c.branch.pk if c.branch else None,
        "due_on": None,
        "due_at": c.due_at,
        "assignee": c.assignee_id,
        "assignee_role": "",
        "status": "open",
        "outcome": "",
        "reason": "",
        "script": "",
        "url": c.url,
    }


@router.get("/tasks", response={200: TaskPageOut, **ERRORS})
@api_perm("tasks.view", audit_object="followup_task")
def task_list(request: ApiRequest, params: Query[TaskParams]) -> dict[str, Any]:
    """Follow-up tasks of the caller (`who=me`: assigned to them, or to their role and nobody), of a
    role, or of everyone, for today / overdue / upcoming / done; the open missed-call callbacks of the
    front desk follow the tasks (`kind=callback`, read-only: their outcome is recorded on the call)."""
    org, user = request.org, request.auth
    if params.view not in task_sel.VIEWS:
        raise ValidationFailed.field("view", f"must be one of {', '.join(task_sel.VIEWS)}")
    if params.who not in ("me", "all", *Role.values):
        raise ValidationFailed.field("who", "must be me, all or a role")
    branch = branch_named(org=org, branch_id=params.branch)
    if params.who == "me":
        f = task_sel.TaskFilter(view=params.view, user=user, branch=branch)
    else:
        f = task_sel.TaskFilter(
            view=params.view, role="" if params.who == "all" else params.who, branch=branch
        )
    now = timezone.now()
    qs = task_sel.task_list(org=org, f=f, now=now)
    items = [task_out(t) for t in qs[params.offset : params.offset + params.limit]]
    callbacks = [callback_out(c) for c in task_sel.open_callbacks(org=org, f=f, now=now)]
    count = qs.count()
    if params.offset + params.limit > count:
        start = max(0, params.offset - count)
        items += callbacks[start : start + params.limit - len(items)]
    return {"count": count + len(callbacks), "limit": params.limit, "offset": params.offset, "items": items}


@router.post("/tasks/{task_id}/outcome", response={200: TaskOut, **ERRORS})
@api_perm("tasks.view", audit_object="followup_task")
def task_outcome(request: ApiRequest, task_id: str, payload: OutcomeIn) -> dict[str, Any]:
    """Record a follow-up task's outcome. `no_answer` keeps it open (one more attempt); the others close
    it; `declined` needs a `reason`. A closed task answers 409 and keeps its first outcome."""
    org, user = request.org, request.auth
    task = task_sel.task_get(org=org, task_id=task_id)
    task_svc.task_outcome_record(
        org=org, actor=user, task=task, outcome=payload.outcome, reason=payload.reason, request=request
    )
    return task_out(task_sel.task_get(org=org, task_id=task.pk))


class RecallListOut(Schema):
    id: uuid.UUID
    name: str
    kind: str
    contacted: int
    booked_7: int
    booked_60: int
    share_7: float | None
    share_60: float | None
    ci_7: list[float] | None
    ci_60: list[float] | None


def list_out(r: recall_sel.ListResult) -> dict[str, Any]:
    return {
        "id": r.recall_list.pk,
        "name": r.recall_list.name,
        "kind": r.recall_list.kind,
        "contacted": r.contacted,
        "booked_7": r.booked_7,
        "booked_60": r.booked_60,
        "share_7": r.share_7,
        "share_60": r.share_60,
        "ci_7": list(r.ci_7) if r.ci_7 else None,
        "ci_60": list(r.ci_60) if r.ci_60 else None,
    }


@router.get("/recall-lists", response={200: list[RecallListOut], **ERRORS})
@api_perm("recall.view", audit_object="recall_list")
def recall_lists(request: ApiRequest) -> list[dict[str, Any]]:
    """The recall lists with their result: contacts made, and how many of the contacted patients booked
    within 7 and within 60 days (shares with 95% Wilson intervals)."""
    return [list_out(r) for r in recall_sel.recall_results(org=request.org)]


class MemberOut(Schema):
    patient: uuid.UUID
    patient_name: str
    due_on: dt.date | None
    clv: Decimal | None
    p_alive: float | None
    currency: str


class RecallDetailOut(RecallListOut):
    members: list[MemberOut]


class PageParams(Schema):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("/recall-lists/{list_id}", response={200: RecallDetailOut, **ERRORS})
@api_perm("recall.view", audit_object="recall_list")
def recall_list_detail(request: ApiRequest, list_id: str, params: Query[PageParams]) -> dict[str, Any]:
    """A recall list with one page of its members, in the list's order (due date; or predicted lifetime
    value, highest first, for lapsed patients)."""
    org = request.org
    rl = recall_sel.recall_list_get(org=org, list_id=list_id)
    members = recall_sel.recall_members(
        org=org, rl=rl, now=timezone.now(), limit=params.limit, offset=params.offset
    )
    return {
        **list_out(recall_sel.recall_results(org=org, list_ids=[rl.pk])[0]),
        "members": [
            {
                "patient": m.patient.pk,
                "patient_name": m.patient.full_name,
                "due_on": m.due_on,
                "clv": m.clv,
                "p_alive": m.p_alive,
                "currency": m.currency,
            }
            for m in members
        ],
    }


class ContactIn(Schema):
    patient: uuid.UUID
    outcome: str = Field(description="reached, no_answer, booked or declined")
    channel: str = Field(ContactChannel.CALL, description="call, sms or email")
    reason: str = Field("", max_length=300)


class ContactOut(Schema):
    id: uuid.UUID
    recall_list: uuid.UUID
    patient: uuid.UUID
    channel: str
    outcome: str
    reason: str
    contacted_at: dt.datetime
    booked_at: dt.datetime | None


def contact_out(c: RecallContact) -> dict[str, Any]:
    return {
        "id": c.pk,
        "recall_list": c.recall_list_id,
        "patient": c.patient_id,
        "channel": c.channel,
        "outcome": c.outcome,
        "reason": c.reason,
        "contacted_at": c.contacted_at,
        "booked_at": c.booked_at,
    }


@router.post("/recall-lists/{list_id}/contacts", response={201: ContactOut, **ERRORS})
@api_perm("recall.record", audit_object="recall_contact")
def recall_contact(request: ApiRequest, list_id: str, payload: ContactIn) -> Status[dict[str, Any]]:
    """Record a contact with a patient from the list and its outcome (`booked` stamps the booking time;
    later bookings are linked to the contact by the worker)."""
    org = request.org
    rl = recall_sel.recall_list_get(org=org, list_id=list_id)
    patient = patient_get(org=org, patient_id=payload.patient, with_phones=False)
    contact = recall_svc.recall_contact_record(
        org=org,
        actor=request.auth,
        recall_list=rl,
        patient=patient,
        outcome=payload.outcome,
        channel=payload.channel,
        reason=payload.reason,
        request=request,
    )
    return Status(201, contact_out(contact))


class MessageIn(Schema):
    patient: uuid.UUID
    channel: str = Field(description="sms or email")


@router.post("/recall-lists/{list_id}/messages", response={201: ContactOut, **ERRORS})
@api_perm("recall.record", audit_object="recall_contact")
def recall_message(request: ApiRequest, list_id: str, payload: MessageIn) -> Status[dict[str, Any]]:
    """Send a recall message to a patient of the list (SMS or e-mail through the outbox, in the
    patient's language) and record the contact. It advertises: without the patient's marketing consent
    for the channel it is refused with 409 `no_marketing_consent` (nothing sent or recorded), and the
    outbox checks the consent again when it sends; no address on the channel: 409 `no_address`."""
    org = request.org
    rl = recall_sel.recall_list_get(org=org, list_id=list_id)
    patient = patient_get(org=org, patient_id=payload.patient, with_phones=False)
    contact = recall_svc.recall_message_send(
        org=org, actor=request.auth, recall_list=rl, patient=patient, channel=payload.channel, request=request
    )
    return Status(201, contact_out(contact))
