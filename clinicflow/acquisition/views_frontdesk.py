"""Front-desk pages: the live call log of a branch with its callbacks, a call (tags, checklist score,
administrator, review list), the weekly review list and the branch's call checklist. Thin: validate →
selector/service → render. Times are shown in the branch's time zone."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.acquisition import selectors, services
from clinicflow.acquisition.forms_frontdesk import (
    AdministratorForm,
    CallbackDoneForm,
    CallLogFilterForm,
    CallScoreForm,
    CallTagForm,
    ChecklistAddForm,
    ChecklistItemForm,
    ReviewAddForm,
    WeekForm,
)
from clinicflow.acquisition.models import Call, CallStatus, CallTag, ReviewVerdict
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import DomainError, NotFound
from clinicflow.core.models import AuditAction, Branch
from clinicflow.core.phones import display
from clinicflow.core.selectors import branch_get

PAGE_SIZE = 50
UTC = zoneinfo.ZoneInfo("UTC")


def _or_404(fn: Any, **kwargs: Any) -> Any:
    try:
        return fn(**kwargs)
    except NotFound as exc:
        raise Http404 from exc


def _branch(request: AuthedRequest, branch_id: str) -> Branch | None:
    """The chosen branch (another organisation's id → 404), else the organisation's first branch."""
    if branch_id:
        return _or_404(branch_get, org=request.org, branch_id=branch_id)  # type: ignore[no-any-return]
    return selectors.branches_for_calls(org=request.org).first()


def _log_filter(form: CallLogFilterForm) -> selectors.CallLogFilter:
    if not form.is_valid():
        return selectors.CallLogFilter()
    cd = form.cleaned_data
    return selectors.CallLogFilter(
        day=cd.get("date"),
        status=cd.get("status") or "",
        unique_only=bool(cd.get("unique")),
        tag=cd.get("tag") or "",
    )


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds // 60}:{seconds % 60:02d}"


def _local(at: dt.datetime, tz: dt.tzinfo) -> dict[str, str]:
    """A moment as the branch sees it, formatted here: the template's date filter would convert an aware
    datetime back to the request's time zone."""
    local = timezone.localtime(at, tz)
    return {"time": local.strftime("%H:%M"), "date": local.date().isoformat(), "iso": local.isoformat()}


def _safe_url(url: str) -> str:
    return url if url.startswith(("https://", "http://")) else ""


def call_row(call: Call, tz: dt.tzinfo, *, can_create_patient: bool) -> dict[str, Any]:
    """What one call-log row shows; the page renders it and the live feed sends it as JSON."""
    local = timezone.localtime(call.started_at, tz)
    caller = call.caller_e164 or call.caller_raw
    patient = None
    if call.patient is not None:
        patient = {
            "name": call.patient.full_name,
            "url": reverse("patients:detail", args=[call.patient.pk]),
        }
    new_lead_url = ""
    if patient is None and call.caller_e164 and can_create_patient:
        new_lead_url = reverse("patients:create") + "?" + urlencode({"phone": call.caller_e164})
    admin = call.administrator
    return {
        "id": str(call.pk),
        "url": reverse("acquisition:call_detail", args=[call.pk]),
        "time": local.strftime("%H:%M"),
        "date": local.date().isoformat(),
        "iso": local.isoformat(),
        "caller": display(call.caller_e164) if call.caller_e164 else caller,
        "patient": patient,
        "new_lead_url": new_lead_url,
        "number": call.tracking_number.e164 if call.tracking_number else call.called_number,
        "source": " / ".join(x for x in (call.source, call.medium) if x),
        "campaign": call.campaign.name if call.campaign else call.utm_campaign,
        "status": call.status,
        "status_label": str(call.get_status_display()),
        "missed": call.status == CallStatus.MISSED,
        "duration": _duration(call.duration),
        "administrator": (admin.full_name or admin.email) if admin else "",
        "unique": call.is_unique,
        "tags": [str(CallTag(t.tag).label) for t in call.taggings.all()],
        "score": f"{call.score}%" if call.score is not None else "",
    }


@require_GET
@require_perm("calls.view")
def call_log(request: AuthedRequest) -> HttpResponse:
    org = request.org
    branch = _branch(request, request.GET.get("branch", ""))
    form = CallLogFilterForm(request.GET)
    f = _log_filter(form)
    context: dict[str, Any] = {
        "form": form,
        "branch": branch,
        "branches": selectors.branches_for_calls(org=org),
    }
    if branch is None:
        return render(request, "acquisition/frontdesk/call_log.html", context)
    can_create = request.user.has_perm_cf("patients.edit")
    page = Paginator(selectors.call_log(org=org, branch=branch, f=f), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [call_row(c, branch.tz, can_create_patient=can_create) for c in page]
    now = timezone.now()
    today = timezone.localtime(now, branch.tz).date()
    filters = {"branch": str(branch.pk), "status": f.status, "tag": f.tag}
    if f.unique_only:
        filters["unique"] = "on"
    callbacks = [
        {
            "task": t,
            "overdue": t.due_at < now,
            "phone": display(t.phone) if t.phone.startswith("+") else t.phone,
            "due": _local(t.due_at, branch.tz),
            "call": _local(t.call.started_at, branch.tz),
        }
        for t in selectors.callbacks_for_log(org=org, branch=branch)[:100]
    ]
    if any(r["patient"] for r in rows):
        audit_record(
            org=org, actor=request.user, action=AuditAction.LIST, object_type="call", request=request
        )
    context |= {
        "page": page,
        "rows": rows,
        "callbacks": callbacks,
        "callback_form": CallbackDoneForm(),
        "live": page.number == 1 and (f.day is None or f.day == today),
        "feed_url": reverse("acquisition:call_log_feed")
        + "?"
        + urlencode({k: v for k, v in filters.items() if v}),
        "cursor": selectors.call_feed_cursor(org=org, branch=branch, now=now).encode(),
        "query": urlencode(
            {k: v for k, v in {**filters, "date": f.day.isoformat() if f.day else ""}.items() if v}
        ),
        "today": today,
    }
    return render(request, "acquisition/frontdesk/call_log.html", context)


@require_GET
@require_perm("calls.view")
def call_log_feed(request: AuthedRequest) -> HttpResponse:
    """Calls of the branch created or changed after ``cursor`` (JSON for call_log.js). No clinical data."""
    org = request.org
    branch = _or_404(branch_get, org=org, branch_id=request.GET.get("branch", ""))
    cursor = selectors.FeedCursor.decode(request.GET.get("cursor", "")[:100])
    if cursor is None:
        return JsonResponse(
            {"error": {"code": "validation_error", "message": "cursor: is invalid", "fields": {}}}, status=422
        )
    form = CallLogFilterForm(request.GET)
    f = _log_filter(form)
    calls = selectors.call_feed(
        org=org,
        branch=branch,
        cursor=cursor,
        f=selectors.CallLogFilter(status=f.status, unique_only=f.unique_only, tag=f.tag),
    )
    if calls:
        cursor = selectors.FeedCursor(updated_at=calls[-1].updated_at, call_id=calls[-1].pk)
        if any(c.patient_id for c in calls):
            audit_record(
                org=org, actor=request.user, action=AuditAction.LIST, object_type="call", request=request
            )
    can_create = request.user.has_perm_cf("patients.edit")
    response = JsonResponse(
        {
            "cursor": cursor.encode(),
            "calls": [call_row(c, branch.tz, can_create_patient=can_create) for c in calls],
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@require_perm("calls.handle", audit_object="callback_task")
def callback_done(request: AuthedRequest, task_id: str) -> HttpResponse:
    task = _or_404(selectors.callback_get, org=request.org, task_id=task_id)
    form = CallbackDoneForm(request.POST)
    outcome = form.cleaned_data["outcome"] if form.is_valid() else ""
    try:
        services.callback_done(org=request.org, actor=request.user, task=task, outcome=outcome)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Callback marked as done."))
    url = reverse("acquisition:call_log")
    return redirect(f"{url}?{urlencode({'branch': task.branch_id})}" if task.branch_id else url)


def _call(request: AuthedRequest, call_id: str) -> Call:
    return _or_404(selectors.call_for_page, org=request.org, call_id=call_id)  # type: ignore[no-any-return]


def _back(call: Call) -> HttpResponse:
    return redirect("acquisition:call_detail", call_id=call.pk)


@require_GET
@require_perm("calls.view", audit_object="call")
def call_detail(request: AuthedRequest, call_id: str) -> HttpResponse:
    org, user = request.org, request.user
    call = _call(request, call_id)
    if call.patient_id:
        audit_record(
            org=org,
            actor=user,
            action=AuditAction.VIEW,
            object_type="call",
            object_id=call.pk,
            fields=["patient", "caller", "recording_url", "payload"],
            request=request,
        )
    tz = call.branch.tz if call.branch else UTC
    items = selectors.checklist_items_effective(org=org, branch=call.branch)
    scores = {s.item.code: s.passed for s in call.scores.all()}
    review_entry = selectors.review_entry_for_call(org=org, call=call)
    admins = [(str(u.pk), u.full_name or u.email) for u in selectors.call_administrators(org=org)]
    context = {
        "call": call,
        "row": call_row(call, tz, can_create_patient=user.has_perm_cf("patients.edit")),
        "started": _local(call.started_at, tz),
        "answered": _local(call.answered_at, tz) if call.answered_at else None,
        "ended": _local(call.ended_at, tz) if call.ended_at else None,
        "tz_name": str(tz),
        "recording_url": _safe_url(call.recording_url),
        "payload": json.dumps(call.payload, indent=2, ensure_ascii=False, sort_keys=True, default=str),
        "tag_form": CallTagForm(initial={"tags": [t.tag for t in call.taggings.all()]}),
        "score_items": [{"code": i.code, "label": i.label, "passed": scores.get(i.code)} for i in items],
        "admin_form": AdministratorForm(
            choices=admins, initial={"administrator": str(call.administrator_id or "")}
        ),
        "review_entry": review_entry,
        "review_form": ReviewAddForm(
            initial={"verdict": review_entry.verdict, "note": review_entry.note} if review_entry else None
        ),
        "can_handle": user.has_perm_cf("calls.handle"),
        "can_review": user.has_perm_cf("calls.review"),
    }
    return render(request, "acquisition/frontdesk/call_detail.html", context)


def _done(request: AuthedRequest, fn: Any, success: str, **kwargs: Any) -> None:
    try:
        fn(org=request.org, actor=request.user, **kwargs)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)


@require_POST
@require_perm("calls.handle", audit_object="call")
def call_tag(request: AuthedRequest, call_id: str) -> HttpResponse:
    call = _call(request, call_id)
    form = CallTagForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Unknown tag."))
        return _back(call)
    _done(request, services.call_tag_set, _("Tags saved."), call=call, tags=form.cleaned_data["tags"])
    return _back(call)


@require_POST
@require_perm("calls.handle", audit_object="call")
def call_score(request: AuthedRequest, call_id: str) -> HttpResponse:
    call = _call(request, call_id)
    items = selectors.checklist_items_effective(org=request.org, branch=call.branch)
    form = CallScoreForm(request.POST, items=[(i.code, i.label) for i in items])
    if not form.is_valid():
        messages.error(request, _("Unknown checklist item."))
        return _back(call)
    _done(
        request, services.call_score_checked, _("Score saved."), call=call, passed=form.cleaned_data["passed"]
    )
    return _back(call)


@require_POST
@require_perm("calls.handle", audit_object="call")
def call_assign(request: AuthedRequest, call_id: str) -> HttpResponse:
    call = _call(request, call_id)
    admins = {str(u.pk): u for u in selectors.call_administrators(org=request.org)}
    form = AdministratorForm(request.POST, choices=[(k, k) for k in admins])
    if not form.is_valid():
        messages.error(request, _("Unknown administrator."))
        return _back(call)
    admin = admins.get(form.cleaned_data["administrator"] or "")
    _done(
        request, services.call_assign_administrator, _("Administrator saved."), call=call, administrator=admin
    )
    return _back(call)


@require_POST
@require_perm("calls.review", audit_object="call")
def review_add(request: AuthedRequest, call_id: str) -> HttpResponse:
    call = _call(request, call_id)
    form = ReviewAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose good or bad example."))
        return _back(call)
    _done(
        request,
        services.review_add,
        _("Added to the weekly review list."),
        call=call,
        verdict=form.cleaned_data["verdict"],
        note=form.cleaned_data["note"],
    )
    return _back(call)


@require_GET
@require_perm("calls.review")
def review(request: AuthedRequest) -> HttpResponse:
    org = request.org
    form = WeekForm(request.GET)
    day = form.cleaned_data.get("week") if form.is_valid() else None
    week = services.week_of(day or timezone.localdate())
    entries: list[dict[str, Any]] = []
    for e in selectors.review_list(org=org, week=week):
        tz = e.call.branch.tz if e.call.branch else UTC
        entries.append(
            {
                "entry": e,
                "local": _local(e.call.started_at, tz),
                "recording_url": _safe_url(e.call.recording_url),
            }
        )
    context = {
        "form": WeekForm(initial={"week": week}),
        "week": week,
        "week_end": week + dt.timedelta(days=6),
        "prev_week": week - dt.timedelta(days=7),
        "next_week": week + dt.timedelta(days=7),
        "sections": [
            (_("Good examples"), [x for x in entries if x["entry"].verdict == ReviewVerdict.GOOD], "good"),
            (_("Bad examples"), [x for x in entries if x["entry"].verdict == ReviewVerdict.BAD], "bad"),
        ],
    }
    return render(request, "acquisition/frontdesk/review.html", context)


@require_POST
@require_perm("calls.review", audit_object="review_entry")
def review_remove(request: AuthedRequest, entry_id: str) -> HttpResponse:
    entry = _or_404(selectors.review_entry_get, org=request.org, entry_id=entry_id)
    week = entry.week
    _done(request, services.review_remove, _("Removed from the review list."), entry=entry)
    return redirect(reverse("acquisition:review") + "?" + urlencode({"week": week.isoformat()}))


@require_http_methods(["GET", "POST"])
@require_perm("calls.review", audit_object="branch")
def checklist(request: AuthedRequest, branch_id: str) -> HttpResponse:
    org = request.org
    branch = _or_404(branch_get, org=org, branch_id=branch_id)
    add_form = ChecklistAddForm()
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "add":
            add_form = ChecklistAddForm(request.POST)
            if add_form.is_valid():
                _done(
                    request,
                    services.checklist_item_add,
                    _("Item added."),
                    branch=branch,
                    label=add_form.cleaned_data["label"],
                )
                return redirect("acquisition:checklist", branch_id=branch.pk)
        elif action in ("remove", "up", "down"):
            item_form = ChecklistItemForm(request.POST)
            if not item_form.is_valid():
                raise Http404
            code = item_form.cleaned_data["item"]
            try:
                if action == "remove":
                    services.checklist_item_remove(org=org, actor=request.user, branch=branch, code=code)
                else:
                    services.checklist_item_move(
                        org=org, actor=request.user, branch=branch, code=code, direction=action
                    )
            except NotFound as exc:
                raise Http404 from exc
            messages.success(request, _("Checklist saved."))
            return redirect("acquisition:checklist", branch_id=branch.pk)
        else:
            messages.error(request, _("Unknown action."))
    stored = selectors.branch_checklist(org=org, branch=branch)
    context = {
        "branch": branch,
        "branches": selectors.branches_for_calls(org=org),
        "items": selectors.checklist_items_effective(org=org, branch=branch),
        "own": stored is not None and stored.branch_id == branch.pk,
        "add_form": add_form,
    }
    return render(
        request, "acquisition/frontdesk/checklist.html", context, status=422 if add_form.errors else 200
    )
