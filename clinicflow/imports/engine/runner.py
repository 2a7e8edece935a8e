"""Running an import job.

* all-or-nothing: a validation pass over the whole file (nothing written), then every batch in one
  transaction; any refused row rolls the whole import back. A killed run leaves nothing: it restarts.
* skip-bad-rows: each batch commits with its rows, its source-id map, its issues and the job's
  ``done_line``; a killed run resumes after the last committed batch.
* dry run: the same work in a transaction that is rolled back at the end.
Re-running any file changes nothing: rows already in the source-id map are counted as unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from clinicflow.core.audit import audit_record
from clinicflow.core.models import AuditAction
from clinicflow.imports.engine.bulk import BatchResult, Issue
from clinicflow.imports.engine.catalog import Catalog
from clinicflow.imports.engine.clean import Clean, Ctx
from clinicflow.imports.engine.pipeline import ahead
from clinicflow.imports.engine.rows import cleaned, describe, mapped_rows
from clinicflow.imports.engine.write_patients import index_rows, write_patients
from clinicflow.imports.engine.write_spend import write_spend
from clinicflow.imports.engine.write_visits import write_payments, write_visits
from clinicflow.imports.files import FileProblem, Source, open_source
from clinicflow.imports.models import ImportIssue, ImportJob, JobStatus, Mode

BATCH = 5000
MAX_STORED_ISSUES = 1000
Progress = Callable[[ImportJob], None]


class Rollback(Exception):
    """Raised inside the all-or-nothing transaction to undo it."""


def job_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def job_path(job: ImportJob) -> Path:
    return job_dir() / str(job.organization_id) / job.stored_name


def count_lines(source: Source) -> int:
    if source.ext == "xlsx":
        return 0
    total = 0
    with source.path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            total += chunk.count(b"\n")
    return total


class Writer:
    def __init__(self, job: ImportJob, ctx: Ctx) -> None:
        self.job, self.ctx = job, ctx
        self.catalog = Catalog(ctx) if job.kind == "visits" else None

    def write(self, rows: list[Clean]) -> BatchResult:
        ctx, job = self.ctx, self.job
        if job.kind == "patients":
            return write_patients(ctx, rows, job=job, on_duplicate=job.on_duplicate)
        if job.kind == "visits":
            assert self.catalog is not None
            result = write_visits(ctx, rows, job=job, catalog=self.catalog)
            result.extra.update({k: v for k, v in self.catalog.created.items() if v})
            self.catalog.created = dict.fromkeys(self.catalog.created, 0)
            return result
        if job.kind == "payments":
            return write_payments(ctx, rows, job=job)
        return write_spend(ctx, rows, job=job)

    def write_each(self, rows: list[Clean]) -> BatchResult:
        """Row by row in savepoints: a row the database refuses (an overlap, a constraint) is an issue."""
        total = BatchResult()
        for row in rows:
            try:
                with transaction.atomic():
                    total.add(self.write([row]))
            except (IntegrityError, DatabaseError) as exc:
                if self.catalog is not None:
                    self.catalog.reload()
                reason = str(exc).splitlines()[0][:200]
                total.issues.append(
                    Issue(row.line, "source_id", f"refused by the database: {reason}", row.source_id)
                )
        return total


def _batches(
    items: Iterator[Clean | Issue], after: int, prepare: Callable[[list[Clean]], None] | None = None
) -> Iterator[tuple[list[Clean], list[Issue], int]]:
    rows: list[Clean] = []
    issues: list[Issue] = []
    last = after
    for item in items:
        if item.line <= after:
            continue
        last = item.line
        (issues if isinstance(item, Issue) else rows).append(item)  # type: ignore[arg-type]
        if len(rows) >= BATCH:
            if prepare is not None:
                prepare(rows)
            yield rows, issues, last
            rows, issues = [], []
    if rows or issues:
        if prepare is not None:
            prepare(rows)
        yield rows, issues, last


def _read(
    job: ImportJob, ctx: Ctx, source: Source, after: int
) -> Iterator[tuple[list[Clean], list[Issue], int]]:
    """The file's batches after line ``after``, read, cleaned and (patients) blind-indexed and sealed
    by a thread ahead of the writer (``pipeline.ahead``)."""
    org_id = ctx.org.pk
    prepare = (lambda rows: index_rows(org_id, rows)) if job.kind == "patients" else None
    batches = _batches(cleaned(mapped_rows(source, job.kind, job.columns), ctx), after, prepare)
    return ahead(batches)


def _no_flush_wait() -> None:
    """PostgreSQL: this transaction's commit does not wait for its WAL to reach the disk
    (``synchronous_commit = off``, for this transaction only). A crash of the database server may
    lose the last moment of committed batches, never part of one: a batch's rows, its source-id map
    and the job's ``done_line`` are one transaction, so the run resumes after the last batch kept."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _count(job: ImportJob, result: BatchResult) -> None:
    for name in ("created", "updated", "unchanged", "skipped", "flagged"):
        setattr(job, name, getattr(job, name) + getattr(result, name))
    job.failed_rows += len({i.line for i in result.errors})


def _store_issues(job: ImportJob, issues: list[Issue]) -> None:
    if not issues:
        return
    room = MAX_STORED_ISSUES - ImportIssue.objects.for_org(job.organization).filter(job=job).count()
    ImportIssue.objects.bulk_create(
        ImportIssue(
            organization_id=job.organization_id,
            job=job,
            level=i.level,
            line=i.line,
            column=job.columns.get(i.field, i.field)[:200],
            problem=i.problem[:500],
            value=i.value[:200],
            object_id=i.object_id,
            other_id=i.other_id,
        )
        for i in issues[: max(room, 0)]
    )


def _save(job: ImportJob) -> None:
    job.heartbeat_at = timezone.now()
    job.save()


def _finish(job: ImportJob, status: str, message: str = "") -> ImportJob:
    job.status = status
    job.message = message[:500]
    job.phase = ""
    job.finished_at = timezone.now()
    _save(job)
    return job


def _reset(job: ImportJob) -> None:
    job.done_line = job.created = job.updated = job.unchanged = job.skipped = job.flagged = (
        job.failed_rows
    ) = 0
    ImportIssue.objects.for_org(job.organization).filter(job=job).delete()


def run_job(job: ImportJob, *, path: Path | None = None, progress: Progress | None = None) -> ImportJob:
    """Run (or resume) ``job``; returns it finished: done, or failed with its issues stored."""
    ctx = Ctx(org=job.organization, branch=job.branch, source=job.source, kind=job.kind)
    try:
        source = open_source(path or job_path(job), job.ext)
        if not job.total_lines:
            job.total_lines = count_lines(source)
        if job.mode == Mode.ALL or job.dry_run:
            _reset(job)
        job.status = JobStatus.RUNNING
        _save(job)
        if job.mode == Mode.ALL:
            return _run_all(job, ctx, source, progress)
        return _run_skip_bad(job, ctx, source, progress)
    except FileProblem as exc:
        return _finish(job, JobStatus.FAILED, str(exc))


def _fail(job: ImportJob, issues: list[Issue]) -> ImportJob:
    job.created = job.updated = job.unchanged = job.skipped = job.flagged = 0
    job.failed_rows = len({i.line for i in issues if i.level == "error"})
    _store_issues(job, [i for i in issues if i.level == "error"])
    first = describe(issues[0], job.columns) if issues else ""
    return _finish(job, JobStatus.FAILED, f"{job.failed_rows} bad rows; nothing was imported. First: {first}")


def _run_all(job: ImportJob, ctx: Ctx, source: Source, progress: Progress | None) -> ImportJob:
    """One pass, one transaction: each batch is cleaned once and written; once a row is refused (by
    its cleaning or by the database), nothing more is written — the rest of the file is only cleaned,
    to name every bad row — and the transaction is rolled back. The failure names the rows refused by
    their cleaning if any, else the database's refusal, else the rows refused while writing: what a
    validation pass over the whole file before the writing named."""
    job.phase, job.done_line = "applying", 0
    _save(job)
    writer = Writer(job, ctx)
    total = BatchResult()
    refused: list[Issue] = []  # rows refused by their cleaning
    database: list[Issue] = []  # the database's refusal of a batch
    try:
        with transaction.atomic():
            _no_flush_wait()
            for rows, bad, last in _read(job, ctx, source, 0):
                refused.extend(bad)
                if not (refused or database or total.errors):
                    try:
                        with transaction.atomic():
                            result = writer.write(rows)
                    except (IntegrityError, DatabaseError) as exc:
                        database.append(_refusal(rows[0].line if rows else last, exc))
                    else:
                        total.add(result)
                        _count(job, result)
                job.done_line = last
                if progress:
                    progress(job)
            if refused or database or total.errors:
                raise Rollback
            _store_issues(job, total.issues)
            _audit(job)
            if job.dry_run:
                raise Rollback
    except Rollback:
        if refused or database or total.errors:
            return _fail(job, refused or database or total.errors)
        _store_issues(job, total.issues)
    except (IntegrityError, DatabaseError) as exc:
        return _fail(job, [_refusal(job.done_line, exc)])
    job.message = _summary(job, total)
    return _finish(job, JobStatus.DONE, job.message)


def _refusal(line: int, exc: Exception) -> Issue:
    return Issue(line, "source_id", f"refused by the database: {str(exc).splitlines()[0][:200]}")


def _run_skip_bad(job: ImportJob, ctx: Ctx, source: Source, progress: Progress | None) -> ImportJob:
    writer = Writer(job, ctx)
    total = BatchResult()
    job.phase = "applying"
    try:
        # a dry run's outer transaction, rolled back; a real run commits each batch
        with transaction.atomic() if job.dry_run else contextlib.nullcontext():
            for rows, bad, last in _read(job, ctx, source, job.done_line):
                with transaction.atomic():
                    _no_flush_wait()
                    try:
                        with transaction.atomic():
                            result = writer.write(rows)
                    except (IntegrityError, DatabaseError):
                        if writer.catalog is not None:
                            writer.catalog.reload()
                        result = writer.write_each(rows)
                    result.issues.extend(bad)
                    result.issues.sort(key=lambda i: i.line)
                    total.add(result)
                    _count(job, result)
                    if not job.dry_run:
                        _store_issues(job, result.issues)
                    job.done_line = last
                    _save(job)
                if progress:
                    progress(job)
            _audit(job)
            if job.dry_run:
                raise Rollback
    except Rollback:
        _store_issues(job, total.issues)
    job.message = _summary(job, total)
    return _finish(job, JobStatus.DONE, job.message)


def _summary(job: ImportJob, total: BatchResult) -> str:
    made = ", ".join(f"{k} created: {v}" for k, v in sorted(total.extra.items()))
    prefix = "dry run, nothing stored: " if job.dry_run else ""
    return (
        f"{prefix}created {job.created}, updated {job.updated}, unchanged {job.unchanged}, "
        f"skipped {job.skipped}, flagged {job.flagged}, bad rows {job.failed_rows}"
        + (f"; {made}" if made else "")
    )


def _audit(job: ImportJob) -> None:
    audit_record(
        org=job.organization,
        actor=job.created_by,
        action=AuditAction.CREATE,
        object_type="import_job",
        object_id=job.pk,
        fields=[job.kind],
    )
