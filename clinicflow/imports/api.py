"""The imports app's API, mounted under /api/v1/: submit a file, follow its job."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ninja import Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.core.api import ERRORS, ErrorOut
from clinicflow.core.errors import DomainError, ValidationFailed, error_body
from clinicflow.core.selectors import branch_find, branch_list
from clinicflow.imports import selectors, services
from clinicflow.imports.files import FileProblem, max_bytes
from clinicflow.imports.models import ImportJob

router = Router(tags=["imports"])

FORM = {
    "type": "object",
    "required": ["kind", "file"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "a .csv or .xlsx file"},
        "kind": {"type": "string", "enum": ["patients", "visits", "payments", "ad_spend"]},
        "source": {
            "type": "string",
            "description": "the system the file comes from (source ids are per source)",
        },
        "branch": {
            "type": "string",
            "description": "branch id or slug (zone and currency); default the first",
        },
        "mode": {"type": "string", "enum": ["all", "skip-bad"]},
        "on_duplicate": {"type": "string", "enum": ["merge", "skip", "flag"]},
        "dry_run": {"type": "boolean"},
        "columns": {
            "type": "string",
            "description": 'JSON {"field": "column header"}; default: the saved mapping or a guess',
        },
    },
}


class IssueOut(Schema):
    level: str
    line: int
    column: str
    problem: str
    value: str


class JobOut(Schema):
    id: str
    kind: str
    source: str
    status: str
    phase: str
    mode: str
    on_duplicate: str
    dry_run: bool
    filename: str
    branch: str
    columns: dict[str, str]
    total_lines: int
    done_line: int
    percent: int
    created: int
    updated: int
    unchanged: int
    skipped: int
    flagged: int
    failed_rows: int
    message: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    issues: list[IssueOut]


def job_out(job: ImportJob, *, with_issues: bool = True) -> dict[str, Any]:
    issues = selectors.job_issues(org=job.organization, job=job) if with_issues else []
    return {
        "id": str(job.pk),
        "kind": job.kind,
        "source": job.source,
        "status": job.status,
        "phase": job.phase,
        "mode": job.mode,
        "on_duplicate": job.on_duplicate,
        "dry_run": job.dry_run,
        "filename": job.filename,
        "branch": str(job.branch_id),
        "columns": job.columns,
        "total_lines": job.total_lines,
        "done_line": job.done_line,
        "percent": job.percent,
        "created": job.created,
        "updated": job.updated,
        "unchanged": job.unchanged,
        "skipped": job.skipped,
        "flagged": job.flagged,
        "failed_rows": job.failed_rows,
        "message": job.message,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "issues": [
            {"level": i.level, "line": i.line, "column": i.column, "problem": i.problem, "value": i.value}
            for i in issues
        ],
    }


def _columns(raw: str) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValidationFailed.field("columns", "must be a JSON object") from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(x, str) for k, x in value.items()
    ):
        raise ValidationFailed.field("columns", 'must be a JSON object {"field": "header"}')
    return value


@router.post(
    "/imports",
    response={201: JobOut, 413: ErrorOut, **ERRORS},
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": FORM}}}},
)
@api_perm("imports.run", audit_object="import_job")
def import_create(request: ApiRequest) -> Status[dict[str, Any]]:
    """Upload a CSV or XLSX file and queue its import (a worker runs it; follow `GET /imports/{id}`).
    A file over the size limit is refused by its Content-Length before it is read (413); a file in an
    unknown encoding, a damaged workbook or a ZIP bomb is a 422 and nothing is stored."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > max_bytes() + 64 * 1024:
        return Status(413, error_body("file_too_large", f"the file is larger than {max_bytes() // 2**20} MB"))
    upload = request.FILES.get("file")
    form = request.POST
    if upload is None:
        raise ValidationFailed.field("file", "is required")
    org = request.org
    key = form.get("branch", "")
    branch = branch_find(org=org, key=key) if key else next(iter(branch_list(org=org)), None)
    if branch is None:
        raise ValidationFailed.field("branch", "unknown branch")
    try:
        job = services.job_submit(
            org=org,
            actor=request.auth,
            branch=branch,
            kind=form.get("kind", ""),
            source=form.get("source", "") or "file",
            stream=upload,
            size=upload.size or 0,
            filename=upload.name or "",
            columns=_columns(form.get("columns", "")),
            mode=form.get("mode", "") or "all",
            on_duplicate=form.get("on_duplicate", "") or "flag",
            dry_run=form.get("dry_run", "") in ("true", "1", "on"),
        )
    except FileProblem as exc:
        raise ValidationFailed.field("file", str(exc)) from exc
    return Status(201, job_out(job))


@router.get("/imports/{job_id}", response={200: JobOut, **ERRORS})
@api_perm("imports.run", audit_object="import_job")
def import_get(request: ApiRequest, job_id: str) -> dict[str, Any]:
    """An import job: status, progress, counts and the first 200 issues (line, column, problem)."""
    return job_out(selectors.job_get(org=request.org, job_id=job_id))


__all__ = ["DomainError", "router"]
