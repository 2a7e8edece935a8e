"""Front-desk pages: the live call log of a branch with its callbacks, a call (tags, checklist score,
administrator, review list), the weekly review list and the branch's call checklist. Thin: form →
selector or service → render. Times are shown in the branch's time zone."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.acquisition.frontdesk import checklists, selectors, services
from clinicflow.acquisition.frontdesk.forms import (
    AdministratorForm,
    CallbackDoneForm,
    CallLogFilterForm,
    CallScoreForm,
    CallTagForm,
    ChecklistAddForm,
    ChecklistItemForm,
    ChecklistMoveForm,
    FeedCursorForm,
    ReviewAddForm,
    WeekForm,
)
from clinicflow.acquisition.frontdesk.rows import call_row, callback_rows, local, safe_url
from clinicflow.acquisition.models import Call, ReviewVerdict
from clinicflow.catalogue.product_notes import call_screen_panel
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import DomainError, NotFound
from clinicflow.core.models import AuditAction, Branch
from clinicflow.core.selectors import branch_get, branch_list
from clinicflow.core.web import branch_from_request, flash_error, get_or_404, render_in_zone

PAGE_SIZE = 50
UTC = zoneinfo.ZoneInfo("UTC")


def _audit_list(request: AuthedRequest) -> None:
    """Record that the user saw a list of calls with patients on it."""
    audit_record(
        org=request.org, actor=request.user, action=AuditAction.LIST, object_type="call", request=request
    )


# --- call log and its live feed ----------------------------------------------------------------------------


def _log_links(branch: Branch, f: selectors.CallLogFilter) -> dict[str, str]:
    """The live feed's URL and the pager's query, both with the page's filters."""
    filters = {"branch": str(branch.pk), "status": f.status, "tag": f.tag}
    if f.unique_only:
        filters["unique"] = "on"
    day = {"date": f.day.isoformat() if f.day else ""}
    return {
        "feed_url": reverse("acquisition:call_log_feed")
        + "?"
        + urlencode({k: v for k, v in filters.items() if v}),
        "query": urlencode({k: v for k, v in {**filters, **day}.items() if v}),
    }


def _log_page(request: AuthedRequest, branch: Branch, f: selectors.CallLogFilter) -> dict[str, Any]:
    org = request.org
    calls = selectors.call_log(org=org, branch=branch, f=f)
    page: Page[Call] = Paginator(calls, PAGE_SIZE).get_page(request.GET.get("page"))
    can_create = request.user.has_perm_cf("patients.edit")
    rows = [call_row(c, branch.tz, can_create_patient=can_create) for c in page]
    if any(r["patient"] for r in rows):
        _audit_list(request)
    now = timezone.now()
    today = timezone.localtime(now, branch.tz).date()
    return {
        "page": page,
        "rows": rows,
        "callbacks": callback_rows(selectors.callbacks_for_log(org=org, branch=branch)[:100], branch.tz, now),
        "callback_form": CallbackDoneForm(),
        "live": page.number == 1 and (f.day is None or f.day == today),
        "cursor": selectors.call_feed_cursor(org=org, branch=branch, now=now).encode(),
        "today": today,
        **_log_links(branch, f),
    }


@require_GET
@require_perm("calls.view")
def call_log(request: AuthedRequest) -> HttpResponse:
    branches = branch_list(org=request.org)
    form = CallLogFilterForm(request.GET)
    named = bool(request.GET.get("branch"))  # a branch named but not found is a 404 even with none
    branch = branch_from_request(request, request.org) if branches or named else None
    ctx: dict[str, Any] = {"form": form, "branch": branch, "branches": branches}
    if branch is not None:
        ctx |= _log_page(request, branch, form.log_filter())
    return render_in_zone(request, "acquisition/frontdesk/call_log.html", ctx)


@require_GET
@require_perm("calls.view")
def call_log_feed(request: AuthedRequest) -> HttpResponse:
    """Calls of the branch created or changed after ``cursor`` (JSON for call_log.js). No clinical data."""
    org = request.org
    branch = get_or_404(branch_get, org=org, branch_id=request.GET.get("branch", ""))
    cursor_form = FeedCursorForm(request.GET)
    raw = cursor_form.cleaned_data["cursor"] if cursor_form.is_valid() else ""
    cursor = selectors.FeedCursor.decode(raw[:100])
    if cursor is None:
        return JsonResponse(
            {"error": {"code": "validation_error", "message": "cursor: is invalid", "fields": {}}}, status=422
        )
    f = CallLogFilterForm(request.GET).log_filter()
    live = selectors.CallLogFilter(status=f.status, unique_only=f.unique_only, tag=f.tag)
    calls = selectors.call_feed(org=org, branch=branch, cursor=cursor, f=live)
    if calls:
        cursor = selectors.FeedCursor(updated_at=calls[-1].updated_at, call_id=calls[-1].pk)
        if any(c.patient_id for c in calls):
            _audit_list(request)
    can_create = request.user.has_perm_cf("patients.edit")
    rows = [call_row(c, branch.tz, can_create_patient=can_create) for c in calls]
    response = JsonResponse({"cursor": cursor.encode(), "calls": rows})
    response["Cache-Control"] = "no-store"
    return response


def _done(request: AuthedRequest, service: Callable[..., object], success: str, **kwargs: Any) -> None:
    """Call one service as the user; its refusal or the success is shown on the next page."""
    try:
        service(org=request.org, actor=request.user, **kwargs)
    except DomainError as exc:
        flash_error(request, exc)
    else:
        messages.success(request, success)


@require_POST
@require_perm("calls.handle", audit_object="callback_task")
def callback_done(request: AuthedRequest, task_id: str) -> HttpResponse:
    task = get_or_404(selectors.callback_get, org=request.org, task_id=task_id)
    form = CallbackDoneForm(request.POST)
    outcome = form.cleaned_data["outcome"] if form.is_valid() else ""
    _done(request, services.callback_done, _("Callback marked as done."), task=task, outcome=outcome)
    url = reverse("acquisition:call_log")
    return redirect(f"{url}?{urlencode({'branch': task.branch_id})}" if task.branch_id else url)


# --- a call ----------------------------------------------------------------------------------------------


def _call(request: AuthedRequest, call_id: str) -> Call:
    return get_or_404(selectors.call_for_page, org=request.org, call_id=call_id)


def _back(call: Call) -> HttpResponse:
    return redirect("acquisition:call_detail", call_id=call.pk)


def _call_forms(request: AuthedRequest, call: Call) -> dict[str, Any]:
    """The forms of a call's page, filled with what is stored."""
    org = request.org
    items = selectors.checklist_items_effective(org=org, branch=call.branch)
    scores = {s.item.code: s.passed for s in call.scores.all()}
    review_entry = selectors.review_entry_for_call(org=org, call=call)
    review_initial = {"verdict": review_entry.verdict, "note": review_entry.note} if review_entry else None
    return {
        "tag_form": CallTagForm(initial={"tags": [t.tag for t in call.taggings.all()]}),
        "score_items": [{"code": i.code, "label": i.label, "passed": scores.get(i.code)} for i in items],
        "admin_form": AdministratorForm(
            admins=list(selectors.call_administrators(org=org)),
            initial={"administrator": str(call.administrator_id or "")},
        ),
        "review_entry": review_entry,
        "review_form": ReviewAddForm(initial=review_initial),
    }


@require_GET
@require_perm("calls.view", audit_object="call")
def call_detail(request: AuthedRequest, call_id: str) -> HttpResponse:
    user = request.user
    call = _call(request, call_id)
    if call.patient_id:
        audit_record(
            org=request.org,
            actor=user,
            action=AuditAction.VIEW,
            object_type="call",
            object_id=call.pk,
            fields=["patient", "caller", "recording_url", "payload"],
            request=request,
        )
    tz = call.branch.tz if call.branch else UTC
    ctx = {
        "call": call,
        "row": call_row(call, tz, can_create_patient=user.has_perm_cf("patients.edit")),
        "started": local(call.started_at, tz),
        "answered": local(call.answered_at, tz) if call.answered_at else None,
        "ended": local(call.ended_at, tz) if call.ended_at else None,
        "tz_name": str(tz),
        "recording_url": safe_url(call.recording_url),
        "payload": json.dumps(call.payload, indent=2, ensure_ascii=False, sort_keys=True, default=str),
        **_call_forms(request, call),
        "can_handle": user.has_perm_cf("calls.handle"),
        "can_review": user.has_perm_cf("calls.review"),
        # the service the caller names: its published FAQ and pricing (product documents, issue #19)
        **call_screen_panel(org=request.org, service_id=request.GET.get("service")),
    }
    return render_in_zone(request, "acquisition/frontdesk/call_detail.html", ctx, branch=call.branch)


def _act(
    request: AuthedRequest,
    call: Call,
    form: forms.Form,
    texts: tuple[str, str],
    service: Callable[..., object],
    *fields: str,
) -> HttpResponse:
    """One action on a call from its page, the form's ``fields`` passed to the service. ``texts``: what
    to say when the form is invalid, and on success."""
    if form.is_valid():
        _done(request, service, texts[1], call=call, **{f: form.cleaned_data[f] for f in fields})
    else:
        messages.error(request, texts[0])
    return _back(call)


@require_POST
@require_perm("calls.handle", audit_object="call")
def call_tag(request: AuthedRequest, call_id: str) -> HttpResponse:
    texts = (_("Unknown tag."), _("Tags saved."))
    form = CallTagForm(request.POST)
    return _act(request, _call(request, call_id), form, texts, services.call_tag_set, "tags")


@require_POST
@require_perm("calls.handle", audit_object="call")
def call_score(request: AuthedRequest, call_id: str) -> HttpResponse:
    call = _call(request, call_id)
    items = selectors.checklist_items_effective(org=request.org, branch=call.branch)
    form = CallScoreForm(request.POST, items=[(i.code, i.label) for i in items])
    texts = (_("Unknown checklist item."), _("Score saved."))
    return _act(request, call, form, texts, checklists.call_score_checked, "passed")


@require_POST
@require_perm("calls.handle", audit_object="call")
def call_assign(request: AuthedRequest, call_id: str) -> HttpResponse:
    form = AdministratorForm(request.POST, admins=list(selectors.call_administrators(org=request.org)))
    texts = (_("Unknown administrator."), _("Administrator saved."))
    call = _call(request, call_id)
    return _act(request, call, form, texts, services.call_assign_administrator, "administrator")


# --- weekly review list ----------------------------------------------------------------------------------


@require_POST
@require_perm("calls.review", audit_object="call")
def review_add(request: AuthedRequest, call_id: str) -> HttpResponse:
    texts = (_("Choose good or bad example."), _("Added to the weekly review list."))
    form = ReviewAddForm(request.POST)
    return _act(request, _call(request, call_id), form, texts, services.review_add, "verdict", "note")


@require_GET
@require_perm("calls.review")
def review(request: AuthedRequest) -> HttpResponse:
    form = WeekForm(request.GET)
    day = form.cleaned_data.get("week") if form.is_valid() else None
    week = selectors.week_of(day or timezone.localdate())
    entries: list[dict[str, Any]] = []
    for e in selectors.review_list(org=request.org, week=week):
        tz = e.call.branch.tz if e.call.branch else UTC
        entries.append(
            {
                "entry": e,
                "local": local(e.call.started_at, tz),
                "recording_url": safe_url(e.call.recording_url),
            }
        )
    ctx = {
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
    return render_in_zone(request, "acquisition/frontdesk/review.html", ctx)


@require_POST
@require_perm("calls.review", audit_object="review_entry")
def review_remove(request: AuthedRequest, entry_id: str) -> HttpResponse:
    entry = get_or_404(selectors.review_entry_get, org=request.org, entry_id=entry_id)
    week = entry.week
    _done(request, services.review_remove, _("Removed from the review list."), entry=entry)
    return redirect(reverse("acquisition:review") + "?" + urlencode({"week": week.isoformat()}))


# --- a branch's call checklist ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require_perm("calls.review", audit_object="branch")
def checklist(request: AuthedRequest, branch_id: str) -> HttpResponse:
    """GET: the branch's checklist. POST: add an item."""
    org = request.org
    branch = get_or_404(branch_get, org=org, branch_id=branch_id)
    add_form = ChecklistAddForm(request.POST or None)
    if request.method == "POST" and add_form.is_valid():
        label = add_form.cleaned_data["label"]
        _done(request, checklists.checklist_item_add, _("Item added."), branch=branch, label=label)
        return redirect("acquisition:checklist", branch_id=branch.pk)
    stored = selectors.branch_checklist(org=org, branch=branch)
    ctx = {
        "branch": branch,
        "branches": branch_list(org=org),
        "items": selectors.checklist_items_effective(org=org, branch=branch),
        "own": stored is not None and stored.branch_id == branch.pk,
        "add_form": add_form,
    }
    status = 422 if add_form.errors else 200
    return render_in_zone(request, "acquisition/frontdesk/checklist.html", ctx, status=status)


def _checklist_change(
    request: AuthedRequest, branch_id: str, form: ChecklistItemForm, change: Callable[..., object]
) -> HttpResponse:
    """Remove or move one item of the branch's checklist; an unknown item is a 404."""
    branch = get_or_404(branch_get, org=request.org, branch_id=branch_id)
    if not form.is_valid():
        raise Http404
    try:
        change(org=request.org, actor=request.user, branch=branch, code=form.cleaned_data["item"])
    except NotFound as exc:
        raise Http404 from exc
    messages.success(request, _("Checklist saved."))
    return redirect("acquisition:checklist", branch_id=branch.pk)


@require_POST
@require_perm("calls.review", audit_object="branch")
def checklist_remove(request: AuthedRequest, branch_id: str) -> HttpResponse:
    form = ChecklistItemForm(request.POST)
    return _checklist_change(request, branch_id, form, checklists.checklist_item_remove)


@require_POST
@require_perm("calls.review", audit_object="branch")
def checklist_move(request: AuthedRequest, branch_id: str) -> HttpResponse:
    form = ChecklistMoveForm(request.POST)

    def move(**kwargs: Any) -> object:
        return checklists.checklist_item_move(direction=form.cleaned_data["direction"], **kwargs)

    return _checklist_change(request, branch_id, form, move)
