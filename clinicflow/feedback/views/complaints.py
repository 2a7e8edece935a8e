"""Staff pages of complaints: the manager's list (open, overdue, resolved) and one complaint with its
status trail and the form that moves it along."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.core.errors import DomainError
from clinicflow.core.web import flash_error, get_or_404
from clinicflow.feedback.models import ComplaintStatus
from clinicflow.feedback.selectors import complaints as sel
from clinicflow.feedback.selectors import settings as settings_sel
from clinicflow.feedback.services import complaints as svc
from clinicflow.feedback.services.complaints import MOVES


@require_perm("complaints.manage")
def complaint_list(request: AuthedRequest) -> HttpResponse:
    view = request.GET.get("view", "open")
    if view not in sel.VIEWS:
        view = "open"
    count, page = sel.complaint_list(org=request.org, view=view, limit=200)
    tabs = [
        ("open", _("Open")),
        ("overdue", _("Overdue")),
        ("resolved", _("Resolved")),
        ("all", _("All")),
    ]
    ctx = {"complaints": page, "count": count, "view": view, "tabs": tabs}
    return render(request, "feedback/complaints.html", ctx)


@require_http_methods(["GET", "POST"])
@require_perm("complaints.manage", audit_object="complaint")
def complaint_detail(request: AuthedRequest, complaint_id: str) -> HttpResponse:
    org = request.org
    complaint = get_or_404(sel.complaint_get, org=org, complaint_id=complaint_id)
    if request.method == "POST":
        owner = None
        owner_id = request.POST.get("owner", "")
        try:
            if owner_id and owner_id != str(complaint.owner_id):
                owner = settings_sel.owner_get(org=org, user_id=owner_id)
            svc.complaint_change(
                org=org,
                actor=request.user,
                complaint=complaint,
                status=request.POST.get("status", complaint.status),
                note=request.POST.get("note", ""),
                owner=owner,
                request=request,
            )
        except DomainError as exc:
            flash_error(request, exc)
        else:
            messages.success(request, _("Complaint updated."))
        return redirect("feedback:complaint", complaint_id=complaint.pk)
    statuses = [
        (s, label)
        for s, label in ComplaintStatus.choices
        if s == complaint.status or s in MOVES[complaint.status]
    ]
    ctx = {
        "complaint": complaint,
        "events": sel.complaint_events(org=org, complaint=complaint),
        "statuses": statuses,
        "owners": settings_sel.complaint_owners(org=org),
        "tags": settings_sel.tag_labels(org=org, ids=complaint.answer.tags if complaint.answer else []),
    }
    return render(request, "feedback/complaint.html", ctx)


paths: list[URLPattern] = [
    path("complaints/", complaint_list, name="complaints"),
    path("complaints/<str:complaint_id>/", complaint_detail, name="complaint"),
]
