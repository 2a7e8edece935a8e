"""Reads of the imports app. Every function takes the organisation first."""

from __future__ import annotations

from django.db.models import QuerySet

from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid
from clinicflow.imports.models import ImportIssue, ImportJob, ImportMapping


def job_get(*, org: Organization, job_id: object) -> ImportJob:
    pk = parse_uuid(job_id)
    job = ImportJob.objects.for_org(org).select_related("branch").filter(pk=pk).first() if pk else None
    if job is None:
        raise NotFound("import not found")
    return job


def job_list(*, org: Organization, limit: int = 50) -> list[ImportJob]:
    return list(ImportJob.objects.for_org(org).select_related("branch").order_by("-created_at")[:limit])


def job_issues(*, org: Organization, job: ImportJob, limit: int = 200) -> list[ImportIssue]:
    return list(ImportIssue.objects.for_org(org).filter(job=job).order_by("line", "id")[:limit])


def mapping_get(*, org: Organization, source: str, kind: str) -> ImportMapping | None:
    return ImportMapping.objects.for_org(org).filter(source=source, kind=kind).first()


def mapping_list(*, org: Organization) -> QuerySet[ImportMapping]:
    return ImportMapping.objects.for_org(org).order_by("source", "kind")
