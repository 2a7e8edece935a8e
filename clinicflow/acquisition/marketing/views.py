"""The marketer's pages: channels and campaigns, ad spend and its import (upload → columns → preview →
save). Thin: validate with a form → selector or service → render."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.acquisition.forms import add_domain_errors
from clinicflow.acquisition.marketing import selectors, services, spend_import, spend_uploads
from clinicflow.acquisition.marketing.forms import (
    CampaignForm,
    ChannelCreateForm,
    ChannelEditForm,
    SpendFilterForm,
    SpendMappingForm,
    SpendSaveForm,
    SpendUploadForm,
)
from clinicflow.core import uploads
from clinicflow.core.errors import DomainError
from clinicflow.core.names import fields_from_names
from clinicflow.core.web import get_or_404, render_in_zone

SPEND_PAGE = 100
PREVIEW_ROWS = 200
PREVIEW_ERRORS = 1000
SESSION_KEY = "acq_spend_import"
FORM_TEMPLATE = "acquisition/marketing/form.html"


# --- channels and campaigns ------------------------------------------------------------------------------


@require_GET
@require_perm("acquisition.view")
def channels(request: AuthedRequest) -> HttpResponse:
    org = request.org
    ctx = {
        "channels": selectors.channels(org=org),
        "campaigns": selectors.campaigns(org=org).order_by("channel__code", "name"),
        "can_manage": request.user.has_perm_cf("acquisition.manage"),
    }
    return render_in_zone(request, "acquisition/marketing/channels.html", ctx)


def _form_page(
    request: AuthedRequest,
    form: forms.Form,
    title: str,
    save: Callable[[dict[str, Any]], object],
    success: str,
) -> HttpResponse:
    """A channel or campaign form: on a valid POST call the service, else show the form again."""
    if request.method == "POST" and form.is_valid():
        try:
            save(dict(form.cleaned_data))
        except DomainError as exc:
            add_domain_errors(form, exc)
        else:
            messages.success(request, success)
            return redirect("acquisition:channels")
    ctx = {"form": form, "title": title}
    return render_in_zone(request, FORM_TEMPLATE, ctx, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def channel_create(request: AuthedRequest) -> HttpResponse:
    form = ChannelCreateForm(request.POST or None, org=request.org)

    def save(data: dict[str, Any]) -> object:
        return services.channel_create(org=request.org, actor=request.user, **form.channel_data())

    return _form_page(request, form, _("New channel"), save, _("Channel added."))


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def channel_edit(request: AuthedRequest, channel_id: str) -> HttpResponse:
    channel = get_or_404(selectors.channel_get, org=request.org, channel_id=channel_id)
    initial = {"name": channel.name, "kind": channel.kind, **fields_from_names(channel.name_i18n)}
    form = ChannelEditForm(request.POST or None, initial=initial)

    def save(data: dict[str, Any]) -> object:
        return services.channel_update(
            org=request.org, actor=request.user, channel=channel, **form.channel_data()
        )

    title = _("Edit channel: %(name)s") % {"name": channel.display_name}
    return _form_page(request, form, title, save, _("Channel saved."))


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def campaign_create(request: AuthedRequest) -> HttpResponse:
    form = CampaignForm(request.POST or None, org=request.org, initial={"is_active": True})

    def save(data: dict[str, Any]) -> object:
        data.pop("is_active")
        return services.campaign_create(org=request.org, actor=request.user, **data)

    return _form_page(request, form, _("New campaign"), save, _("Campaign added."))


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def campaign_edit(request: AuthedRequest, campaign_id: str) -> HttpResponse:
    campaign = get_or_404(selectors.campaign_get, org=request.org, campaign_id=campaign_id)
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

    def save(data: dict[str, Any]) -> object:
        return services.campaign_update(
            org=request.org, actor=request.user, campaign=campaign, data=services.CampaignData(**data)
        )

    title = _("Edit campaign: %(name)s") % {"name": campaign.name}
    return _form_page(request, form, title, save, _("Campaign saved."))


# --- ad spend ----------------------------------------------------------------------------------------------


@require_GET
@require_perm("acquisition.view")
def spend(request: AuthedRequest) -> HttpResponse:
    org = request.org
    form = SpendFilterForm(request.GET or None, org=org)
    f = selectors.SpendFilter(**form.cleaned_data) if form.is_valid() else selectors.SpendFilter()
    page = Paginator(selectors.ad_spend_list(org=org, f=f), SPEND_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {
        "form": form,
        "page": page,
        "totals": selectors.ad_spend_totals(org=org, f=f),
        "query": query.urlencode(),
        "can_manage": request.user.has_perm_cf("acquisition.manage"),
    }
    status = 200 if form.is_bound is False or form.is_valid() else 422
    return render_in_zone(request, "acquisition/marketing/spend.html", ctx, status=status)


# --- ad spend import ---------------------------------------------------------------------------------------


def _stored(request: AuthedRequest) -> tuple[spend_uploads.StoredFile | None, dict[str, Any]]:
    state = request.session.get(SESSION_KEY) or {}
    token = state.get("token", "")
    stored = (
        spend_uploads.tmp_open(org=request.org, user_id=request.user.pk, token=token)
        if isinstance(token, str) and token
        else None
    )
    return stored, state


def _forget(request: AuthedRequest, stored: spend_uploads.StoredFile | None) -> None:
    if stored is not None:
        spend_uploads.tmp_delete(stored)
    request.session.pop(SESSION_KEY, None)


def _read_upload(upload: Any) -> tuple[bytes, str, spend_import.Table]:
    """The uploaded file's bytes, extension and table; ``FileProblem`` when it cannot be imported."""
    ext = PurePath(upload.name or "").suffix.lower().lstrip(".")
    if upload.size > spend_import.MAX_BYTES:
        raise spend_import.FileProblem(_("The file is larger than 5 MB."))
    if ext not in spend_import.EXTENSIONS:
        raise spend_import.FileProblem(_("Upload a .csv or .xlsx file."))
    data = upload.read(spend_import.MAX_BYTES + 1)
    try:
        return data, ext, spend_import.read_table(data, ext)
    except spend_import.FileProblem as exc:
        message = _("%(file)s: %(problem)s") % {"file": (upload.name or "")[:100], "problem": exc}
        raise spend_import.FileProblem(str(message)) from exc


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def spend_import_upload(request: AuthedRequest) -> HttpResponse:
    form = SpendUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            data, ext, table = _read_upload(upload)
            token = spend_uploads.tmp_store(
                org=request.org, user_id=request.user.pk, data=data, ext=ext, filename=upload.name or ""
            )
        except spend_import.FileProblem as exc:
            form.add_error("file", str(exc))
        else:
            _forget(request, _stored(request)[0])
            request.session[SESSION_KEY] = {
                "token": token,
                "mapping": spend_import.guess_mapping(table.headers),
            }
            return redirect("acquisition:spend_import_map")
    if uploads.upload_disk_full(request):  # the upload was dropped whole: say why, not "required"
        form.errors["file"] = form.error_class([str(uploads.DISK_FULL_MESSAGE)])
    status = 422 if form.errors else 200
    return render_in_zone(request, "acquisition/marketing/spend_upload.html", {"form": form}, status=status)


def _lost_upload(request: AuthedRequest) -> HttpResponse:
    messages.error(request, _("The uploaded file is no longer available; upload it again."))
    return redirect("acquisition:spend_import")


@dataclass(frozen=True)
class _Upload:
    stored: spend_uploads.StoredFile
    table: spend_import.Table
    state: dict[str, Any]


def _upload(request: AuthedRequest, *, mapped: bool) -> _Upload | HttpResponse:
    """The user's stored upload read again; else the step to go back to (upload, or columns)."""
    stored, state = _stored(request)
    if stored is None:
        return _lost_upload(request)
    if mapped and not state.get("mapped"):
        return redirect("acquisition:spend_import_map")
    try:
        table = spend_import.read_table(stored.path.read_bytes(), stored.ext)
    except spend_import.FileProblem:
        return _lost_upload(request)
    return _Upload(stored=stored, table=table, state=state)


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def spend_import_map(request: AuthedRequest) -> HttpResponse:
    upload = _upload(request, mapped=False)
    if isinstance(upload, HttpResponse):
        return upload
    initial = {k: "" if v is None else str(v) for k, v in (upload.state.get("mapping") or {}).items()}
    form = SpendMappingForm(request.POST or None, headers=upload.table.headers, initial=initial)
    if request.method == "POST" and form.is_valid():
        request.session[SESSION_KEY] = {**upload.state, "mapping": form.mapping(), "mapped": True}
        return redirect("acquisition:spend_import_preview")
    ctx = {"form": form, "filename": upload.stored.filename, "rows": len(upload.table.rows)}
    status = 422 if form.errors else 200
    return render_in_zone(request, "acquisition/marketing/spend_map.html", ctx, status=status)


def _mapping(state: dict[str, Any], headers: list[str]) -> dict[str, int | None]:
    raw = state.get("mapping") or {}
    out: dict[str, int | None] = {}
    for target, _label, _required in spend_import.TARGETS:
        value = raw.get(target)
        out[target] = value if isinstance(value, int) and 0 <= value < len(headers) else None
    return out


def _preview_page(
    request: AuthedRequest, upload: _Upload, preview: spend_import.Preview, problem: str = ""
) -> HttpResponse:
    mapping = _mapping(upload.state, upload.table.headers)
    headers = {t: (upload.table.headers[i] if i is not None else "") for t, i in mapping.items()}
    missing = sorted((ch.name, name) for (_pk, name), ch in preview.missing_campaigns.items())
    ctx = {
        "filename": upload.stored.filename,
        "preview": preview,
        "shown_rows": preview.rows[:PREVIEW_ROWS],
        "shown_errors": preview.errors[:PREVIEW_ERRORS],
        "blocking": preview.blocking_errors,
        "missing": missing,
        "headers": headers,
        "currency": request.org.currency,
        "problem": problem,
        "total_rows": len(upload.table.rows),
    }
    status = 422 if problem else 200
    return render_in_zone(request, "acquisition/marketing/spend_preview.html", ctx, status=status)


def _parse(request: AuthedRequest, upload: _Upload, *, create_missing: bool) -> spend_import.Preview:
    mapping = _mapping(upload.state, upload.table.headers)
    return spend_import.parse(
        org=request.org, table=upload.table, mapping=mapping, create_missing=create_missing
    )


def _imported(request: AuthedRequest, result: services.SpendImportResult) -> HttpResponse:
    text = _(
        "Imported %(rows)s rows: %(created)s new, %(updated)s updated, %(campaigns)s campaigns created."
    ) % {
        "rows": result.created + result.updated,
        "created": result.created,
        "updated": result.updated,
        "campaigns": result.campaigns_created,
    }
    messages.success(request, text)
    return redirect("acquisition:spend")


@require_http_methods(["GET", "POST"])
@require_perm("acquisition.manage")
def spend_import_preview(request: AuthedRequest) -> HttpResponse:
    """GET: every row checked, nothing saved. POST: save all the rows, or none when any is wrong."""
    upload = _upload(request, mapped=True)
    if isinstance(upload, HttpResponse):
        return upload
    if request.method != "POST":
        return _preview_page(request, upload, _parse(request, upload, create_missing=False))
    form = SpendSaveForm(request.POST)
    create_missing = bool(form.is_valid() and form.cleaned_data["create_missing"])
    preview = _parse(request, upload, create_missing=create_missing)
    if preview.errors:
        problem = _("Nothing was saved: correct the rows below and upload the file again.")
        return _preview_page(request, upload, preview, problem)
    try:
        result = services.ad_spend_import(org=request.org, actor=request.user, rows=preview.rows)
    except DomainError as exc:
        return _preview_page(
            request, upload, preview, _("Nothing was saved: %(reason)s") % {"reason": exc.message}
        )
    _forget(request, upload.stored)
    return _imported(request, result)


@require_POST
@require_perm("acquisition.manage")
def spend_import_cancel(request: AuthedRequest) -> HttpResponse:
    _forget(request, _stored(request)[0])
    messages.success(request, _("The import was cancelled; nothing was saved."))
    return redirect("acquisition:spend")
