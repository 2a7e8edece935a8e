"""Writes of the imports app: store an upload and create its job, save a mapping, run or resume a job."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import IO

from django.db import transaction
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import Branch, Organization
from clinicflow.imports.engine import fields as specs
from clinicflow.imports.engine.runner import Progress, job_dir, job_path, run_job
from clinicflow.imports.files import FileProblem, check_size, extension, open_source
from clinicflow.imports.models import ImportJob, ImportKind, ImportMapping, JobStatus, Mode, OnDuplicate

STALE_AFTER = timedelta(minutes=10)
MAX_SOURCE = 60


def _check_choices(kind: str, mode: str, on_duplicate: str, source: str) -> None:
    if kind not in ImportKind.values:
        raise ValidationFailed.field("kind", f"must be one of {', '.join(ImportKind.values)}")
    if mode not in Mode.values:
        raise ValidationFailed.field("mode", f"must be one of {', '.join(Mode.values)}")
    if on_duplicate not in OnDuplicate.values:
        raise ValidationFailed.field("on_duplicate", f"must be one of {', '.join(OnDuplicate.values)}")
    if not source or len(source) > MAX_SOURCE:
        raise ValidationFailed.field("source", f"is required, at most {MAX_SOURCE} characters")


def store_upload(*, org: Organization, stream: IO[bytes], size: int, filename: str) -> tuple[str, str]:
    """Copy an upload (already refused by size if too large) under a random name; the file is checked
    (encoding or ZIP directory) before the job exists. Returns (stored name, extension)."""
    check_size(size)
    ext = extension(filename)
    folder = job_dir() / str(org.pk)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{ext}"
    target = folder / name
    with target.open("xb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    try:
        open_source(target, ext)
    except FileProblem:
        target.unlink(missing_ok=True)
        raise
    return name, ext


def stored_path(org: Organization, name: str) -> Path:
    return job_dir() / str(org.pk) / name


def mapping_save(*, org: Organization, source: str, kind: str, columns: Mapping[str, str]) -> ImportMapping:
    _check_choices(kind, Mode.ALL, OnDuplicate.FLAG, source)
    names = set(specs.field_names(kind))
    clean = {k: str(v)[:200] for k, v in columns.items() if k in names and v}
    mapping, _created = ImportMapping.objects.for_org(org).update_or_create(
        organization=org, source=source, kind=kind, defaults={"columns": clean, "updated_at": timezone.now()}
    )
    return mapping


@transaction.atomic
def job_create(
    *,
    org: Organization,
    actor: User | None,
    branch: Branch,
    kind: str,
    source: str,
    stored_name: str,
    ext: str,
    filename: str,
    columns: Mapping[str, str],
    mode: str = Mode.ALL,
    on_duplicate: str = OnDuplicate.FLAG,
    dry_run: bool = False,
    status: str = JobStatus.QUEUED,
) -> ImportJob:
    """A queued (or draft) job for a stored file. The organisation is the caller's, never the file's."""
    _check_choices(kind, mode, on_duplicate, source)
    if branch.organization_id != org.pk:
        raise ValidationFailed.field("branch", "unknown branch")
    return ImportJob.objects.create(
        organization=org,
        branch=branch,
        kind=kind,
        source=source,
        mode=mode,
        on_duplicate=on_duplicate,
        dry_run=dry_run,
        status=status,
        filename=filename[:200],
        stored_name=stored_name,
        ext=ext,
        columns=dict(columns),
        created_by=actor if actor is not None and actor.pk else None,
    )


def job_run(*, job: ImportJob, progress: Progress | None = None) -> ImportJob:
    """Run a queued job, or resume a killed one (skip-bad: after its last committed batch; all-or-nothing:
    from the start, as nothing of it was kept)."""
    return run_job(job, path=job_path(job), progress=progress)


def claim_next() -> ImportJob | None:
    """Take the oldest queued job, or a running one whose worker stopped beating (killed), atomically:
    a conditional UPDATE, so two workers never run the same job."""
    moment = timezone.now()
    stale = moment - STALE_AFTER
    candidates = ImportJob.objects.filter(status=JobStatus.QUEUED) | ImportJob.objects.filter(
        status=JobStatus.RUNNING, heartbeat_at__lt=stale
    )
    for job in candidates.order_by("created_at")[:5]:
        taken = ImportJob.objects.filter(pk=job.pk, status=job.status, heartbeat_at=job.heartbeat_at).update(
            status=JobStatus.RUNNING, heartbeat_at=moment
        )
        if taken:
            job.refresh_from_db()
            return job
    return None


def columns_for(*, org: Organization, kind: str, source: str, path: Path, ext: str) -> dict[str, str]:
    """The saved mapping of ``source``/``kind``, else the mapping guessed from the file's headers."""
    saved = ImportMapping.objects.for_org(org).filter(source=source, kind=kind).first()
    if saved is not None:
        return dict(saved.columns)
    from clinicflow.imports.files import read_table

    return specs.guess_mapping(kind, read_table(open_source(path, ext)).headers)


def job_submit(
    *,
    org: Organization,
    actor: User | None,
    branch: Branch,
    kind: str,
    source: str,
    stream: IO[bytes],
    size: int,
    filename: str,
    columns: Mapping[str, str] | None = None,
    mode: str = Mode.ALL,
    on_duplicate: str = OnDuplicate.FLAG,
    dry_run: bool = False,
) -> ImportJob:
    """Store an upload and queue its job (the worker runs it); the mapping is checked first."""
    _check_choices(kind, mode, on_duplicate, source)
    name, ext = store_upload(org=org, stream=stream, size=size, filename=filename)
    path = stored_path(org, name)
    try:
        chosen = (
            dict(columns)
            if columns is not None
            else columns_for(org=org, kind=kind, source=source, path=path, ext=ext)
        )
        from clinicflow.imports.files import read_table

        problems = specs.check_mapping(kind, chosen, read_table(open_source(path, ext)).headers)
        if problems:
            raise ValidationFailed("column mapping: " + "; ".join(problems), fields={"columns": problems})
    except (FileProblem, ValidationFailed):
        path.unlink(missing_ok=True)
        raise
    return job_create(
        org=org,
        actor=actor,
        branch=branch,
        kind=kind,
        source=source,
        stored_name=name,
        ext=ext,
        filename=filename,
        columns=chosen,
        mode=mode,
        on_duplicate=on_duplicate,
        dry_run=dry_run,
    )


def job_set_columns(
    *, org: Organization, job: ImportJob, columns: Mapping[str, str], save_mapping: bool
) -> list[str]:
    """Set a draft job's mapping (and save it for its source); returns the mapping's problems."""
    from clinicflow.imports.files import read_table

    if job.status != JobStatus.DRAFT:
        raise ValidationFailed("the import has already started")
    names = set(specs.field_names(job.kind))
    job.columns = {k: v for k, v in columns.items() if k in names and v}
    job.save(update_fields=["columns"])
    if save_mapping:
        mapping_save(org=org, source=job.source, kind=job.kind, columns=job.columns)
    return specs.check_mapping(job.kind, job.columns, read_table(open_source(job_path(job), job.ext)).headers)


def job_queue(*, org: Organization, job: ImportJob, mode: str, on_duplicate: str, dry_run: bool) -> ImportJob:
    """Hand a draft job to the worker."""
    _check_choices(job.kind, mode, on_duplicate, job.source)
    if job.status != JobStatus.DRAFT or job.organization_id != org.pk:
        raise ValidationFailed("the import has already started")
    job.mode, job.on_duplicate, job.dry_run, job.status = mode, on_duplicate, dry_run, JobStatus.QUEUED
    job.save(update_fields=["mode", "on_duplicate", "dry_run", "status"])
    return job
