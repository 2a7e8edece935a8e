"""The manager's survey settings: improvement tags, review-site links per branch, settled-result
delays per service group, the survey link's validity, the complaint deadline."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.catalogue.models import ServiceCategory
from clinicflow.core.errors import DomainError, ValidationFailed
from clinicflow.core.selectors import branch_find, branch_list
from clinicflow.core.web import flash_error, get_or_404
from clinicflow.feedback.selectors import settings as sel
from clinicflow.feedback.services import settings as svc


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise ValidationFailed.field(name, "must be a whole number") from exc


def _apply(request: AuthedRequest) -> None:
    org, user, post = request.org, request.user, request.POST
    action = post.get("action", "")
    if action == "timings":
        svc.settings_save(
            org=org,
            actor=user,
            survey_valid_days=_int(post.get("survey_valid_days", ""), "survey_valid_days"),
            complaint_deadline_hours=_int(
                post.get("complaint_deadline_hours", ""), "complaint_deadline_hours"
            ),
            after_visit_delay_hours=_int(post.get("after_visit_delay_hours", ""), "after_visit_delay_hours"),
            request=request,
        )
    elif action == "delay":
        svc.settled_delay_set(
            org=org,
            actor=user,
            category=post.get("category", ""),
            days=_int(post.get("days", ""), "days"),
            request=request,
        )
    elif action == "tag_add":
        svc.tag_add(org=org, actor=user, label=post.get("label", ""), request=request)
    elif action == "tag_toggle":
        tag = get_or_404(sel.tag_get, org=org, tag_id=post.get("tag", ""))
        svc.tag_toggle(org=org, actor=user, tag=tag, request=request)
    elif action == "link_add":
        branch = branch_find(org=org, key=post.get("branch", ""))
        if branch is None:
            raise ValidationFailed.field("branch", "unknown branch")
        svc.review_link_add(
            org=org,
            actor=user,
            branch=branch,
            site=post.get("site", ""),
            url=post.get("url", ""),
            request=request,
        )
    elif action == "link_remove":
        link = get_or_404(sel.review_link_get, org=org, link_id=post.get("link", ""))
        svc.review_link_remove(org=org, actor=user, link=link, request=request)
    else:
        raise ValidationFailed.field("action", "unknown action")


@require_http_methods(["GET", "POST"])
@require_perm("feedback.manage")
def survey_settings(request: AuthedRequest) -> HttpResponse:
    org = request.org
    if request.method == "POST":
        try:
            _apply(request)
        except DomainError as exc:
            flash_error(request, exc)
        else:
            messages.success(request, _("Saved."))
        return redirect("feedback:settings")
    days = sel.settled_days(org=org)
    delays = [
        (c, label, days.get(c, 0))
        for c, label in ServiceCategory.choices
        if c != ServiceCategory.CONSULTATION
    ]
    ctx = {
        "conf": sel.settings_for(org=org),
        "tags": sel.tag_list(org=org),
        "links": sel.review_links(org=org),
        "branches": branch_list(org=org),
        "delays": delays,
    }
    return render(request, "feedback/settings.html", ctx)


paths: list[URLPattern] = [path("settings/", survey_settings, name="settings")]
