"""Messaging pages for staff: the outbox, the message templates and the demo inbox."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import DomainError
from clinicflow.core.models import AuditAction
from clinicflow.core.selectors import parse_uuid
from clinicflow.core.web import get_or_404
from clinicflow.messaging import configuration, inbox, resolution, selectors
from clinicflow.messaging.channels.registry import demo_inbox_chosen
from clinicflow.messaging.forms import MessageTemplateForm
from clinicflow.messaging.models import Channel, Kind, Status

PAGE_SIZE = 50


@require_perm("messaging.view")
def message_list(request: AuthedRequest) -> HttpResponse:
    org, user = request.org, request.user
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    channel = request.GET.get("channel", "")
    patient_id = parse_uuid(request.GET.get("patient", "")) if request.GET.get("patient") else None
    filters = selectors.MessageFilters(
        status=status if status in Status.values else "",
        kind=kind if kind in Kind.values else "",
        channel=channel if channel in Channel.values else "",
        patient_id=patient_id,
    )
    page = Paginator(selectors.message_list(org=org, filters=filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    zones = selectors.message_zones(org=org, messages=page)
    for m in page:
        m.zone = zones[m.pk]  # type: ignore[attr-defined]  # shown in the clinic's zone, not UTC
    show_contacts = user.has_perm_cf("patients.view_contacts")
    counts = selectors.message_status_counts(org=org)
    audit_record(
        org=org,
        actor=user,
        action=AuditAction.LIST,
        object_type="message",
        fields=["to"] if show_contacts else [],
        request=request,
    )
    pairs = (("status", filters.status), ("kind", filters.kind), ("channel", filters.channel))
    query = "&".join(f"{k}={v}" for k, v in pairs if v)
    return render(
        request,
        "messaging/list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": Status.choices,
            "kinds": Kind.choices,
            "channels": Channel.choices,
            "counts": [(value, label, counts[value]) for value, label in Status.choices],
            "show_contacts": show_contacts,
            "query": query,
        },
    )


@require_perm("messaging.demo_inbox")
def demo_inbox(request: AuthedRequest) -> HttpResponse:
    """What the demo channel would have sent, newest first (only while the demo channel is chosen)."""
    if not demo_inbox_chosen():
        raise Http404("the demo inbox is not in use")
    page = Paginator(inbox.demo_inbox_rows(request.org), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [inbox.inbox_row(row) for row in page]
    return render(request, "messaging/demo_inbox.html", {"page": page, "rows": rows})


@require_POST
@require_perm("messaging.manage")
def message_resolve(request: AuthedRequest, message_id: uuid.UUID) -> HttpResponse:
    """Resolve a message in the ``unknown`` state: delivered, failed, or retry."""
    message = get_or_404(selectors.message_get, org=request.org, message_id=message_id)
    try:
        resolution.message_resolve(
            org=request.org, actor=request.user, message=message, outcome=request.POST.get("outcome", "")
        )
    except DomainError:
        messages.error(request, _("The message was not changed: it is no longer in the unknown state."))
    else:
        messages.success(request, _("The message was resolved."))
    return redirect(f"{reverse('messaging:list')}?status=unknown")


@require_perm("messaging.manage")
def template_list(request: AuthedRequest) -> HttpResponse:
    rows = selectors.message_template_table(org=request.org)
    return render(request, "messaging/templates.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@require_perm("messaging.manage")
def template_edit(request: AuthedRequest, kind: str, channel: str, language: str) -> HttpResponse:
    org = request.org
    current = get_or_404(
        selectors.message_template_get, org=org, kind=kind, channel=channel, language=language
    )
    errors: dict[str, list[str]] = {}
    subject, body = str(current["subject"]), str(current["body"])
    if request.method == "POST":
        form = MessageTemplateForm(request.POST)
        if not form.is_valid():
            errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
            subject, body = str(form.data.get("subject", "")), str(form.data.get("body", ""))
        else:
            subject, body = form.cleaned_data["subject"], form.cleaned_data["body"]
            try:
                configuration.message_template_save(
                    org=org,
                    actor=request.user,
                    kind=kind,
                    channel=channel,
                    language=language,
                    subject=subject,
                    body=body,
                )
            except DomainError as exc:
                errors = exc.fields or {"body": [exc.message]}
            else:
                messages.success(request, _("Template saved."))
                return redirect("messaging:templates")
    return render(
        request,
        "messaging/template_form.html",
        {
            "kind": kind,
            "kind_label": Kind(kind).label,
            "channel": channel,
            "language": language,
            "subject": subject,
            "body": body,
            "current": current,
            "errors": errors,
            "is_email": channel == Channel.EMAIL,
        },
        status=422 if errors else 200,
    )


@require_POST
@require_perm("messaging.manage")
def template_reset(request: AuthedRequest, kind: str, channel: str, language: str) -> HttpResponse:
    row = get_or_404(
        selectors.message_template_override_get,
        org=request.org,
        kind=kind,
        channel=channel,
        language=language,
    )
    configuration.message_template_delete(org=request.org, actor=request.user, template=row)
    messages.success(request, _("The built-in text is used again."))
    return redirect("messaging:templates")
