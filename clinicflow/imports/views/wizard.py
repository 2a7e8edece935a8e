"""The import wizard: upload → mapping → preview with errors → run (progress polled) → summary."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.core.errors import DomainError
from clinicflow.core.formatting import fmt_date, fmt_datetime, fmt_money
from clinicflow.core.selectors import branch_find, branch_list
from clinicflow.core.web import get_or_404, render_in_zone
from clinicflow.imports import selectors, services
from clinicflow.imports.engine.clean import Clean, Ctx
from clinicflow.imports.engine.fields import FIELDS
from clinicflow.imports.engine.rows import describe, preview
from clinicflow.imports.engine.runner import job_path
from clinicflow.imports.files import FileProblem, max_bytes, open_source
from clinicflow.imports.models import ImportJob, ImportKind, JobStatus, Mode, OnDuplicate

LIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


@require_http_methods(["GET", "POST"])
@require_perm("imports.run", audit_object="import_job")
def index(request: AuthedRequest) -> HttpResponse:
    """The upload form and the organisation's recent imports."""
    org = request.org
    branches = branch_list(org=org)
    error = ""
    if request.method == "POST":
        # refused by its declared size before the body is read
        if int(request.META.get("CONTENT_LENGTH") or 0) > max_bytes() + 64 * 1024:
            error = _("The file is larger than the limit of %(mb)s MB.") % {"mb": max_bytes() // 2**20}
        else:
            error, job = _upload(request)
            if job is not None:
                return redirect("imports:mapping", job_id=job.pk)
    ctx = {
        "jobs": selectors.job_list(org=org),
        "branches": branches,
        "kinds": ImportKind.choices,
        "error": error,
    }
    return render_in_zone(request, "imports/index.html", ctx, status=422 if error else 200)


def _upload(request: AuthedRequest) -> tuple[str, ImportJob | None]:
    org = request.org
    upload = request.FILES.get("file")
    if upload is None:
        return _("Choose a file."), None
    key = request.POST.get("branch", "")
    branch = branch_find(org=org, key=key) if key else next(iter(branch_list(org=org)), None)
    if branch is None:
        return _("Choose a branch."), None
    kind = request.POST.get("kind", "")
    source = request.POST.get("source", "").strip() or "file"
    try:
        name, ext = services.store_upload(
            org=org, stream=upload, size=upload.size or 0, filename=upload.name or ""
        )
        columns = (
            services.columns_for(
                org=org, kind=kind, source=source, path=services.stored_path(org, name), ext=ext
            )
            if kind in ImportKind.values
            else {}
        )
        job = services.job_create(
            org=org,
            actor=request.user,
            branch=branch,
            kind=kind,
            source=source,
            stored_name=name,
            ext=ext,
            filename=upload.name or "",
            columns=columns,
            status=JobStatus.DRAFT,
        )
    except FileProblem as exc:
        return str(exc), None
    except DomainError as exc:
        return str(exc.message), None
    return "", job


def _draft(request: AuthedRequest, job_id: str) -> ImportJob:
    return get_or_404(selectors.job_get, org=request.org, job_id=job_id)


@require_http_methods(["GET", "POST"])
@require_perm("imports.run", audit_object="import_job")
def mapping(request: AuthedRequest, job_id: str) -> HttpResponse:
    """Which column of the file holds each field; saved for the source when asked."""
    job = _draft(request, job_id)
    if job.status != JobStatus.DRAFT:
        return redirect("imports:job", job_id=job.pk)
    problems: list[str] = []
    try:
        source = open_source(job_path(job), job.ext)
        from clinicflow.imports.files import read_table

        headers = read_table(source).headers
    except FileProblem as exc:
        return render_in_zone(
            request, "imports/mapping.html", {"job": job, "file_error": str(exc)}, status=422
        )
    if request.method == "POST":
        columns = {spec.name: request.POST.get(f"col_{spec.name}", "") for spec in FIELDS[job.kind]}
        columns = {k: v for k, v in columns.items() if v in headers}
        problems = services.job_set_columns(
            org=request.org, job=job, columns=columns, save_mapping=bool(request.POST.get("save"))
        )
        if not problems:
            return redirect("imports:preview", job_id=job.pk)
    rows = [(spec, job.columns.get(spec.name, "")) for spec in FIELDS[job.kind]]
    ctx = {"job": job, "headers": headers, "rows": rows, "problems": problems}
    return render_in_zone(request, "imports/mapping.html", ctx, status=422 if problems else 200)


def _shown(row: Clean, ctx: Ctx) -> list[str]:
    out = []
    for value in row.values.values():
        if isinstance(value, dt.datetime):
            out.append(fmt_datetime(value, ctx.tz))
        elif isinstance(value, dt.date):
            out.append(fmt_date(value))
        elif isinstance(value, Decimal):
            out.append(fmt_money(value, ctx.currency))
        elif isinstance(value, list):
            out.append(", ".join(str(x) for x in value))
        else:
            out.append("" if value is None else str(value))
    return out


@require_http_methods(["GET"])
@require_perm("imports.run", audit_object="import_job")
def preview_page(request: AuthedRequest, job_id: str) -> HttpResponse:
    """The first rows as they will be stored (dates on the branch's clock, money in its currency) and
    the errors among them; the run form."""
    job = _draft(request, job_id)
    if job.status != JobStatus.DRAFT:
        return redirect("imports:job", job_id=job.pk)
    ctx = Ctx(org=request.org, branch=job.branch, source=job.source, kind=job.kind)
    try:
        result = preview(open_source(job_path(job), job.ext), job.kind, job.columns, ctx, limit=20)
    except FileProblem as exc:
        return render_in_zone(
            request, "imports/mapping.html", {"job": job, "file_error": str(exc)}, status=422
        )
    names = list(result.rows[0].values) if result.rows else []
    page = {
        "job": job,
        "names": names,
        "rows": [(r.line, r.source_id, _shown(r, ctx)) for r in result.rows],
        "issues": [describe(i, job.columns) for i in result.issues],
        "problems": result.problems,
        "modes": Mode.choices,
        "duplicates": OnDuplicate.choices,
        "branch": job.branch,
    }
    return render_in_zone(request, "imports/preview.html", page)


@require_POST
@require_perm("imports.run", audit_object="import_job")
def run(request: AuthedRequest, job_id: str) -> HttpResponse:
    job = _draft(request, job_id)
    if job.status == JobStatus.DRAFT:
        try:
            services.job_queue(
                org=request.org,
                job=job,
                mode=request.POST.get("mode", Mode.ALL),
                on_duplicate=request.POST.get("on_duplicate", OnDuplicate.FLAG),
                dry_run=bool(request.POST.get("dry_run")),
            )
        except DomainError:
            return redirect("imports:preview", job_id=job.pk)
    return redirect("imports:job", job_id=job.pk)


@require_http_methods(["GET"])
@require_perm("imports.run", audit_object="import_job")
def job_page(request: AuthedRequest, job_id: str) -> HttpResponse:
    """Progress while the worker runs the job (the page polls itself), then the summary and the issues."""
    job = _draft(request, job_id)
    ctx: dict[str, Any] = {
        "job": job,
        "live": job.status in LIVE,
        "issues": selectors.job_issues(org=request.org, job=job) if job.status not in LIVE else [],
        "branch": job.branch,
    }
    return render_in_zone(request, "imports/job.html", ctx)


@require_POST
@require_perm("imports.run", audit_object="yclients_link")
def yclients_link(request: AuthedRequest) -> HttpResponse:
    """A new YCLIENTS webhook address for the organisation, shown once (only its hash is kept)."""
    from clinicflow.imports.yclients.services import link_create

    org = request.org
    key = request.POST.get("branch", "")
    branch = branch_find(org=org, key=key) if key else next(iter(branch_list(org=org)), None)
    if branch is None:
        return redirect("imports:index")
    _link, secret = link_create(org=org, branch=branch, company_id=request.POST.get("company_id", "").strip())
    hook_url = request.build_absolute_uri(reverse("yclients_webhook", args=[secret]))
    ctx = {
        "jobs": selectors.job_list(org=org),
        "branches": branch_list(org=org),
        "kinds": ImportKind.choices,
        "hook_url": hook_url,
    }
    return render_in_zone(request, "imports/index.html", ctx)


paths: list[URLPattern] = [
    path("", index, name="index"),
    path("yclients-webhook/", yclients_link, name="yclients_link"),
    path("<str:job_id>/mapping/", mapping, name="mapping"),
    path("<str:job_id>/preview/", preview_page, name="preview"),
    path("<str:job_id>/run/", run, name="run"),
    path("<str:job_id>/", job_page, name="job"),
]
