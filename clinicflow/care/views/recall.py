"""Recall lists: each list's members (computed when opened) with a contact form, and its result."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.care.models import ContactChannel, Outcome
from clinicflow.care.selectors import recall as sel
from clinicflow.care.services import recall as svc
from clinicflow.core.errors import DomainError
from clinicflow.core.web import flash_error, get_or_404, render_in_zone
from clinicflow.patients.selectors import patient_get

PAGE = 50


@require_GET
@require_perm("recall.view")
def recall_lists(request: AuthedRequest) -> HttpResponse:
    return render_in_zone(request, "care/recall_lists.html", {"results": sel.recall_results(org=request.org)})


@require_POST
@require_perm("recall.record")
def recall_setup(request: AuthedRequest) -> HttpResponse:
    svc.recall_lists_ensure(org=request.org)
    return redirect("care:recall_lists")


@require_GET
@require_perm("recall.view", audit_object="recall_list")
def recall_list(request: AuthedRequest, list_id: str) -> HttpResponse:
    rl = get_or_404(sel.recall_list_get, org=request.org, list_id=list_id)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    members = sel.recall_members(
        org=request.org, rl=rl, now=timezone.now(), limit=PAGE, offset=(page - 1) * PAGE
    )
    ctx = {
        "rl": rl,
        "members": members,
        "page": page,
        "has_next": len(members) == PAGE,
        "result": sel.recall_results(org=request.org, list_ids=[rl.pk])[0],
        "outcomes": Outcome.choices,
        "channels": ContactChannel.choices,
    }
    return render_in_zone(request, "care/recall_list.html", ctx)


@require_POST
@require_perm("recall.record", audit_object="recall_list")
def recall_contact(request: AuthedRequest, list_id: str) -> HttpResponse:
    rl = get_or_404(sel.recall_list_get, org=request.org, list_id=list_id)
    try:
        patient = patient_get(org=request.org, patient_id=request.POST.get("patient", ""), with_phones=False)
        svc.recall_contact_record(
            org=request.org,
            actor=request.user,
            recall_list=rl,
            patient=patient,
            outcome=request.POST.get("outcome", ""),
            channel=request.POST.get("channel", ContactChannel.CALL),
            reason=request.POST.get("reason", ""),
            request=request,
        )
        messages.success(request, _("Contact recorded."))
    except DomainError as exc:
        flash_error(request, exc)
    return redirect("care:recall_list", list_id=rl.pk)


@require_POST
@require_perm("recall.record", audit_object="recall_list")
def recall_message(request: AuthedRequest, list_id: str) -> HttpResponse:
    """Send a recall message (SMS or e-mail) to a member of the list; refused, with the reason shown,
    when the patient has no marketing consent or no address for the channel."""
    rl = get_or_404(sel.recall_list_get, org=request.org, list_id=list_id)
    try:
        patient = patient_get(org=request.org, patient_id=request.POST.get("patient", ""), with_phones=False)
        svc.recall_message_send(
            org=request.org,
            actor=request.user,
            recall_list=rl,
            patient=patient,
            channel=request.POST.get("channel", ""),
            request=request,
        )
        messages.success(request, _("Recall message queued for %(name)s.") % {"name": patient.full_name})
    except DomainError as exc:
        flash_error(request, exc)
    return redirect("care:recall_list", list_id=rl.pk)
