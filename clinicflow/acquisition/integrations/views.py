"""The integrations page (owner): telephony webhook integrations with the website script's settings
and its tag, and the failed webhook deliveries (dead letters) with replay and discard. Thin: form →
selector or service → render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.acquisition.defaults import tracking_settings as tracking_settings_get
from clinicflow.acquisition.forms import add_domain_errors
from clinicflow.acquisition.ingestion import dead_letters as dead_letter_services
from clinicflow.acquisition.integrations import selectors, services
from clinicflow.acquisition.integrations.forms import DeadLetterFilterForm, IntegrationForm
from clinicflow.acquisition.models import WebhookStatus
from clinicflow.acquisition.tracking.forms import TrackingSettingsForm
from clinicflow.acquisition.tracking.selectors import org_timezone, script_branch_slug
from clinicflow.acquisition.tracking.services import tracking_settings_update
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import DomainError
from clinicflow.core.models import AuditAction
from clinicflow.core.web import flash_error, get_or_404, render_in_zone

DEAD_LETTER_PAGE = 50


def _settings_form(request: AuthedRequest) -> TrackingSettingsForm:
    cfg = tracking_settings_get(org=request.org)
    initial = {
        "hold_minutes": cfg.hold_minutes,
        "callback_minutes": cfg.callback_minutes,
        "gross_margin": cfg.gross_margin,
        "allowed_origins": cfg.allowed_origins,
        "default_branch": cfg.default_branch_id,
    }
    return TrackingSettingsForm(org=request.org, initial=initial)


def _integrations_page(
    request: AuthedRequest,
    *,
    form: IntegrationForm | None = None,
    settings_form: TrackingSettingsForm | None = None,
    created: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    org = request.org
    cfg = tracking_settings_get(org=org)
    script_url = request.build_absolute_uri(reverse("acquisition_public:script"))
    branch_slug = script_branch_slug(org=org)
    snippet = (
        f'<script src="{script_url}" data-key="{cfg.public_key}" data-branch="{branch_slug}" async></script>'
    )
    ctx = {
        "integrations": selectors.integrations(org=org),
        "form": form or IntegrationForm(org=org),
        "settings_form": settings_form or _settings_form(request),
        "tracking": cfg,
        "snippet": snippet,
        "created": created,
        "dead_count": selectors.dead_letters(org=org).count(),
        "tz": org_timezone(org=org),
    }
    response = render_in_zone(request, "acquisition/marketing/integrations.html", ctx, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@require_perm("integrations.manage")
def integrations(request: AuthedRequest) -> HttpResponse:
    """GET: the integrations. POST: create one; its webhook URL (with the secret) is shown only now."""
    if request.method != "POST":
        return _integrations_page(request)
    form = IntegrationForm(request.POST, org=request.org)
    if form.is_valid():
        try:
            integration, secret = services.integration_create(
                org=request.org, actor=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            url = request.build_absolute_uri(services.webhook_path(integration.provider, secret))
            return _integrations_page(request, created={"integration": integration, "url": url}, status=201)
    return _integrations_page(request, form=form, status=422)


@require_POST
@require_perm("integrations.manage")
def tracking_settings(request: AuthedRequest) -> HttpResponse:
    form = TrackingSettingsForm(request.POST, org=request.org)
    if form.is_valid():
        try:
            tracking_settings_update(org=request.org, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, _("Tracking settings saved."))
            return redirect("acquisition:integrations")
    return _integrations_page(request, settings_form=form, status=422)


@require_POST
@require_perm("integrations.manage")
def integration_disable(request: AuthedRequest, integration_id: str) -> HttpResponse:
    row = get_or_404(selectors.integration_get, org=request.org, integration_id=integration_id)
    services.integration_set_active(org=request.org, actor=request.user, integration=row, active=False)
    messages.success(request, _("Integration disabled: its webhook URL now answers 404."))
    return redirect("acquisition:integrations")


# --- dead letters ------------------------------------------------------------------------------------------


@require_GET
@require_perm("integrations.manage")
def dead_letters(request: AuthedRequest) -> HttpResponse:
    status = DeadLetterFilterForm(request.GET).status_or_dead()
    rows = selectors.dead_letter_list(org=request.org, status=status)
    page = Paginator(rows, DEAD_LETTER_PAGE).get_page(request.GET.get("page"))
    ctx = {
        "page": page,
        "status": status,
        "statuses": WebhookStatus.choices,
        "tz": org_timezone(org=request.org),
    }
    return render_in_zone(request, "acquisition/marketing/dead_letters.html", ctx)


@require_GET
@require_perm("integrations.manage", audit_object="webhook_event")
def dead_letter_detail(request: AuthedRequest, event_id: str) -> HttpResponse:
    event = get_or_404(selectors.dead_letter_get, org=request.org, event_id=event_id)
    audit_record(
        org=request.org,
        actor=request.user,
        action=AuditAction.VIEW,
        object_type="webhook_event",
        object_id=event.pk,
        fields=["body", "headers"],
        request=request,
    )
    ctx = {"event": event, "headers": sorted(event.headers.items()), "tz": org_timezone(org=request.org)}
    response = render_in_zone(request, "acquisition/marketing/dead_letter_detail.html", ctx)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@require_perm("integrations.manage", audit_object="webhook_event")
def dead_letter_replay(request: AuthedRequest, event_id: str) -> HttpResponse:
    event = get_or_404(selectors.dead_letter_get, org=request.org, event_id=event_id)
    try:
        dead_letter_services.dead_letter_replay(org=request.org, actor=request.user, event=event)
    except DomainError as exc:
        flash_error(request, exc)
        return redirect("acquisition:dead_letter_detail", event_id=event.pk)
    messages.success(request, _("The delivery was replayed and the call recorded."))
    return redirect("acquisition:dead_letters")


@require_POST
@require_perm("integrations.manage", audit_object="webhook_event")
def dead_letter_discard(request: AuthedRequest, event_id: str) -> HttpResponse:
    event = get_or_404(selectors.dead_letter_get, org=request.org, event_id=event_id)
    dead_letter_services.dead_letter_discard(org=request.org, actor=request.user, event=event)
    messages.success(request, _("The delivery was discarded."))
    return redirect("acquisition:dead_letters")
