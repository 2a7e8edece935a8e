"""The marketer's pages: channels and campaigns, ad spend and its import, tracking numbers,
integrations with the tracking settings, and the webhook dead letters. Thin: validate → selector or
service → render."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath
from typing import Any, TypeVar

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.acquisition import defaults, selectors, services, spend_import
from clinicflow.acquisition.forms_marketing import (
    CampaignForm,
    ChannelCreateForm,
    ChannelEditForm,
    IntegrationForm,
    SpendFilterForm,
    SpendMappingForm,
    SpendUploadForm,
    TrackingNumberForm,
    TrackingSettingsForm,
)
from clinicflow.acquisition.models import NumberPool, WebhookStatus
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import DomainError, NotFound
from clinicflow.core.models import AuditAction, Branch, Organization

T = TypeVar("T")
SPEND_PAGE = 100
DEAD_LETTER_PAGE = 50
PREVIEW_ROWS = 200
PREVIEW_ERRORS = 1000
SESSION_KEY = "acq_spend_import"


def _get(fn: Callable[..., T], **kwargs: Any) -> T:
    try:
        return fn(**kwargs)
    except NotFound as exc:
        raise Http404 from exc


def _form_errors(form: forms.Form, exc: DomainError) -> None:
    for name, errs in exc.fields.items():
        form.add_error(name if name in form.fields else None, "; ".join(errs))
    if not exc.fields:
        form.add_error(None, exc.message)


def _org_tz(org: Organization) -> str:
    cfg = defaults.tracking_settings(org=org)
    if cfg.default_branch is not None:
        return cfg.default_branch.timezone
    first = Branch.objects.for_org(org).order_by("name").values_list("timezone", flat=True).first()
    return first or "UTC"


# --- channels and campaigns ------------------------------------------------------------------------------


@require_GET
@require_perm("acquisition.view")
def channels(request: AuthedRequest) -> HttpResponse:
    org = request.org
    return render(
        request,
        "acquisition/marketing/channels.html",
        {
            "channels": selectors.channels(org=org),
            "campaigns": selectors.campaigns(org=org).order_by("channel__code", "name"),
            "can_manage": request.user.has_perm_cf("acquisition.manage"),
        },
    )


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def channel_create(request: AuthedRequest) -> HttpResponse:
    form = ChannelCreateForm(request.POST or None, org=request.org)
    if request.method == "POST" and form.is_valid():
        try:
            services.channel_create(org=request.org, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Channel added."))
            return redirect("acquisition:channels")
    return render(
        request,
        "acquisition/marketing/form.html",
        {"form": form, "title": _("New channel")},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def channel_edit(request: AuthedRequest, channel_id: str) -> HttpResponse:
    channel = _get(selectors.channel_get, org=request.org, channel_id=channel_id)
    form = ChannelEditForm(request.POST or None, initial={"name": channel.name, "kind": channel.kind})
    if request.method == "POST" and form.is_valid():
        try:
            services.channel_update(org=request.org, actor=request.user, channel=channel, **form.cleaned_data)
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Channel saved."))
            return redirect("acquisition:channels")
    return render(
        request,
        "acquisition/marketing/form.html",
        {"form": form, "title": _("Edit channel: %(name)s") % {"name": channel.name}},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def campaign_create(request: AuthedRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None, org=request.org, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("is_active")
        try:
            services.campaign_create(org=request.org, actor=request.user, **data)
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Campaign added."))
            return redirect("acquisition:channels")
    return render(
        request,
        "acquisition/marketing/form.html",
        {"form": form, "title": _("New campaign")},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def campaign_edit(request: AuthedRequest, campaign_id: str) -> HttpResponse:
    campaign = _get(selectors.campaign_get, org=request.org, campaign_id=campaign_id)
    initial = {
        "channel": campaign.channel_id,
        "name": campaign.name,
        "utm_source": campaign.utm_source,
        "utm_medium": campaign.utm_medium,
        "utm_campaign": campaign.utm_campaign,
        "branch": campaign.branch_id,
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "is_active": campaign.is_active,
    }
    form = CampaignForm(request.POST or None, org=request.org, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_update(
                org=request.org, actor=request.user, campaign=campaign, **form.cleaned_data
            )
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Campaign saved."))
            return redirect("acquisition:channels")
    return render(
        request,
        "acquisition/marketing/form.html",
        {"form": form, "title": _("Edit campaign: %(name)s") % {"name": campaign.name}},
        status=422 if form.errors else 200,
    )


# --- ad spend ----------------------------------------------------------------------------------------------


@require_GET
@require_perm("acquisition.view")
def spend(request: AuthedRequest) -> HttpResponse:
    org = request.org
    form = SpendFilterForm(request.GET or None, org=org)
    f = selectors.SpendFilter()
    if form.is_valid():
        f = selectors.SpendFilter(**form.cleaned_data)
    page = Paginator(selectors.ad_spend_list(org=org, f=f), SPEND_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "acquisition/marketing/spend.html",
        {
            "form": form,
            "page": page,
            "totals": selectors.ad_spend_totals(org=org, f=f),
            "query": query.urlencode(),
            "can_manage": request.user.has_perm_cf("acquisition.manage"),
        },
        status=200 if form.is_bound is False or form.is_valid() else 422,
    )


def _stored(request: AuthedRequest) -> tuple[spend_import.StoredFile | None, dict[str, Any]]:
    state = request.session.get(SESSION_KEY) or {}
    token = state.get("token", "")
    stored = (
        spend_import.tmp_open(org=request.org, user_id=request.user.pk, token=token)
        if isinstance(token, str) and token
        else None
    )
    return stored, state


def _table(stored: spend_import.StoredFile) -> spend_import.Table:
    return spend_import.read_table(stored.path.read_bytes(), stored.ext)


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def spend_import_upload(request: AuthedRequest) -> HttpResponse:
    form = SpendUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        ext = PurePath(upload.name or "").suffix.lower().lstrip(".")
        try:
            if upload.size > spend_import.MAX_BYTES:
                raise spend_import.FileProblem(_("The file is larger than 5 MB."))
            if ext not in spend_import.EXTENSIONS:
                raise spend_import.FileProblem(_("Upload a .csv or .xlsx file."))
            data = upload.read(spend_import.MAX_BYTES + 1)
            table = spend_import.read_table(data, ext)
            token = spend_import.tmp_store(
                org=request.org, user_id=request.user.pk, data=data, ext=ext, filename=upload.name or ""
            )
        except spend_import.FileProblem as exc:
            form.add_error("file", str(exc))
        else:
            old, _state = _stored(request)
            if old is not None:
                spend_import.tmp_delete(old)
            request.session[SESSION_KEY] = {
                "token": token,
                "mapping": spend_import.guess_mapping(table.headers),
            }
            return redirect("acquisition:spend_import_map")
    return render(
        request,
        "acquisition/marketing/spend_upload.html",
        {"form": form},
        status=422 if form.errors else 200,
    )


def _lost_upload(request: AuthedRequest) -> HttpResponse:
    messages.error(request, _("The uploaded file is no longer available; upload it again."))
    return redirect("acquisition:spend_import")


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def spend_import_map(request: AuthedRequest) -> HttpResponse:
    stored, state = _stored(request)
    if stored is None:
        return _lost_upload(request)
    try:
        table = _table(stored)
    except spend_import.FileProblem:
        return _lost_upload(request)
    initial = {k: "" if v is None else str(v) for k, v in (state.get("mapping") or {}).items()}
    form = SpendMappingForm(request.POST or None, headers=table.headers, initial=initial)
    if request.method == "POST" and form.is_valid():
        request.session[SESSION_KEY] = {**state, "mapping": form.mapping(), "mapped": True}
        return redirect("acquisition:spend_import_preview")
    return render(
        request,
        "acquisition/marketing/spend_map.html",
        {"form": form, "filename": stored.filename, "rows": len(table.rows)},
        status=422 if form.errors else 200,
    )


def _mapping(state: dict[str, Any], headers: list[str]) -> dict[str, int | None]:
    raw = state.get("mapping") or {}
    out: dict[str, int | None] = {}
    for target, _label, _required in spend_import.TARGETS:
        value = raw.get(target)
        out[target] = value if isinstance(value, int) and 0 <= value < len(headers) else None
    return out


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def spend_import_preview(request: AuthedRequest) -> HttpResponse:
    stored, state = _stored(request)
    if stored is None or not state.get("mapped"):
        return _lost_upload(request) if stored is None else redirect("acquisition:spend_import_map")
    try:
        table = _table(stored)
    except spend_import.FileProblem:
        return _lost_upload(request)
    mapping = _mapping(state, table.headers)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "cancel":
        spend_import.tmp_delete(stored)
        request.session.pop(SESSION_KEY, None)
        messages.success(request, _("The import was cancelled; nothing was saved."))
        return redirect("acquisition:spend")
    create_missing = action == "save" and request.POST.get("create_missing") == "1"
    preview = spend_import.parse(org=request.org, table=table, mapping=mapping, create_missing=create_missing)
    status = 200
    problem = ""
    if action == "save":
        if preview.errors:
            status, problem = 422, _("Nothing was saved: correct the rows below and upload the file again.")
        else:
            try:
                result = services.ad_spend_import(org=request.org, actor=request.user, rows=preview.rows)
            except DomainError as exc:
                status, problem = 422, _("Nothing was saved: %(reason)s") % {"reason": exc.message}
            else:
                spend_import.tmp_delete(stored)
                request.session.pop(SESSION_KEY, None)
                messages.success(
                    request,
                    _(
                        "Imported %(rows)s rows: %(created)s new, %(updated)s updated, "
                        "%(campaigns)s campaigns created."
                    )
                    % {
                        "rows": result.created + result.updated,
                        "created": result.created,
                        "updated": result.updated,
                        "campaigns": result.campaigns_created,
                    },
                )
                return redirect("acquisition:spend")
    headers = {t: (table.headers[i] if i is not None else "") for t, i in mapping.items()}
    return render(
        request,
        "acquisition/marketing/spend_preview.html",
        {
            "filename": stored.filename,
            "preview": preview,
            "shown_rows": preview.rows[:PREVIEW_ROWS],
            "shown_errors": preview.errors[:PREVIEW_ERRORS],
            "blocking": preview.blocking_errors,
            "missing": sorted(
                ((ch.name, name) for (_pk, name), ch in preview.missing_campaigns.items()),
                key=lambda x: (x[0], x[1]),
            ),
            "headers": headers,
            "currency": request.org.currency,
            "problem": problem,
            "total_rows": len(table.rows),
        },
        status=status,
    )


# --- tracking numbers -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def numbers(request: AuthedRequest) -> HttpResponse:
    org = request.org
    form = TrackingNumberForm(request.POST or None, org=org)
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        try:
            row = services.tracking_number_add(
                org=org,
                actor=request.user,
                number=cd["number"],
                pool=cd["pool"],
                branch=cd["branch"],
                campaign=cd["campaign"],
            )
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Number %(number)s added.") % {"number": row.e164})
            return redirect("acquisition:numbers")
    rows = list(selectors.tracking_numbers(org=org))
    holders = selectors.number_holders(org=org)
    dynamic = [(n, holders.get(n.pk)) for n in rows if n.pool == NumberPool.DYNAMIC]
    dynamic.sort(key=lambda x: ((x[0].branch.name if x[0].branch else ""), x[0].e164))
    return render(
        request,
        "acquisition/marketing/numbers.html",
        {
            "form": form,
            "dynamic": dynamic,
            "static": [n for n in rows if n.pool == NumberPool.STATIC],
            "tz": _org_tz(org),
        },
        status=422 if form.errors else 200,
    )


@require_POST
@require_perm("acquisition.manage")
def number_active(request: AuthedRequest, number_id: str) -> HttpResponse:
    number = _get(selectors.tracking_number_get, org=request.org, number_id=number_id)
    active = request.POST.get("active") == "1"
    services.tracking_number_set_active(org=request.org, actor=request.user, number=number, active=active)
    messages.success(
        request,
        (_("%(number)s is active again.") if active else _("%(number)s deactivated."))
        % {"number": number.e164},
    )
    return redirect("acquisition:numbers")


# --- integrations, tracking settings, dead letters --------------------------------------------------------


def _integrations_page(
    request: AuthedRequest,
    *,
    form: IntegrationForm | None = None,
    settings_form: TrackingSettingsForm | None = None,
    created: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    org = request.org
    cfg = defaults.tracking_settings(org=org)
    if settings_form is None:
        settings_form = TrackingSettingsForm(
            org=org,
            initial={
                "hold_minutes": cfg.hold_minutes,
                "callback_minutes": cfg.callback_minutes,
                "gross_margin": cfg.gross_margin,
                "allowed_origins": cfg.allowed_origins,
                "default_branch": cfg.default_branch_id,
            },
        )
    branch_slug = (
        cfg.default_branch.slug
        if cfg.default_branch is not None
        else Branch.objects.for_org(org).order_by("name").values_list("slug", flat=True).first() or "BRANCH"
    )
    script_url = request.build_absolute_uri(reverse("acquisition_public:script"))
    snippet = (
        f'<script src="{script_url}" data-key="{cfg.public_key}" data-branch="{branch_slug}" async></script>'
    )
    response = render(
        request,
        "acquisition/marketing/integrations.html",
        {
            "integrations": selectors.integrations(org=org).select_related("branch"),
            "form": form or IntegrationForm(org=org),
            "settings_form": settings_form,
            "tracking": cfg,
            "snippet": snippet,
            "created": created,
            "dead_count": selectors.dead_letters(org=org).count(),
            "tz": _org_tz(org),
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@require_perm("integrations.manage")
def integrations(request: AuthedRequest) -> HttpResponse:
    if request.method != "POST":
        return _integrations_page(request)
    form = IntegrationForm(request.POST, org=request.org)
    if form.is_valid():
        try:
            integration, secret = services.integration_create(
                org=request.org, actor=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            _form_errors(form, exc)
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
            services.tracking_settings_update(org=request.org, actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Tracking settings saved."))
            return redirect("acquisition:integrations")
    return _integrations_page(request, settings_form=form, status=422)


@require_POST
@require_perm("integrations.manage")
def integration_disable(request: AuthedRequest, integration_id: str) -> HttpResponse:
    row = _get(selectors.integration_get, org=request.org, integration_id=integration_id)
    services.integration_set_active(org=request.org, actor=request.user, integration=row, active=False)
    messages.success(request, _("Integration disabled: its webhook URL now answers 404."))
    return redirect("acquisition:integrations")


@require_GET
@require_perm("integrations.manage")
def dead_letters(request: AuthedRequest) -> HttpResponse:
    status = request.GET.get("status", WebhookStatus.DEAD)
    if status not in WebhookStatus.values:
        status = WebhookStatus.DEAD
    rows = selectors.dead_letter_list(org=request.org, status=status)
    page = Paginator(rows, DEAD_LETTER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "acquisition/marketing/dead_letters.html",
        {"page": page, "status": status, "statuses": WebhookStatus.choices, "tz": _org_tz(request.org)},
    )


@require_GET
@require_perm("integrations.manage", audit_object="webhook_event")
def dead_letter_detail(request: AuthedRequest, event_id: str) -> HttpResponse:
    event = _get(selectors.dead_letter_get, org=request.org, event_id=event_id)
    audit_record(
        org=request.org,
        actor=request.user,
        action=AuditAction.VIEW,
        object_type="webhook_event",
        object_id=event.pk,
        fields=["body", "headers"],
        request=request,
    )
    response = render(
        request,
        "acquisition/marketing/dead_letter_detail.html",
        {"event": event, "headers": sorted(event.headers.items()), "tz": _org_tz(request.org)},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@require_perm("integrations.manage", audit_object="webhook_event")
def dead_letter_replay(request: AuthedRequest, event_id: str) -> HttpResponse:
    event = _get(selectors.dead_letter_get, org=request.org, event_id=event_id)
    try:
        services.dead_letter_replay(org=request.org, actor=request.user, event=event)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("acquisition:dead_letter_detail", event_id=event.pk)
    messages.success(request, _("The delivery was replayed and the call recorded."))
    return redirect("acquisition:dead_letters")


@require_POST
@require_perm("integrations.manage", audit_object="webhook_event")
def dead_letter_discard(request: AuthedRequest, event_id: str) -> HttpResponse:
    event = _get(selectors.dead_letter_get, org=request.org, event_id=event_id)
    services.dead_letter_discard(org=request.org, actor=request.user, event=event)
    messages.success(request, _("The delivery was discarded."))
    return redirect("acquisition:dead_letters")
