"""Import jobs, saved column mappings, the source-id map and the per-row issues of a job."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import Branch, TenantModel, staff_ref


class ImportKind(models.TextChoices):
    PATIENTS = "patients", _("Patients")
    VISITS = "visits", _("Appointments and visits")
    PAYMENTS = "payments", _("Payments")
    AD_SPEND = "ad_spend", _("Ad spend")


class Mode(models.TextChoices):
    ALL = "all", _("All or nothing")
    SKIP_BAD = "skip-bad", _("Skip bad rows")


class OnDuplicate(models.TextChoices):
    MERGE = "merge", _("Merge into the existing patient")
    SKIP = "skip", _("Skip the row, keep the existing patient")
    FLAG = "flag", _("Create and flag for review")


class JobStatus(models.TextChoices):
    DRAFT = "draft", _("Draft: mapping the columns")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed: nothing stored")
    ROLLED_BACK = "rolled_back", _("Rolled back")


class ImportMapping(TenantModel):
    """A saved column mapping: for a source (the system the file came from) and a kind, which column
    of the file holds each field."""

    source = models.CharField(_("source"), max_length=60)
    kind = models.CharField(_("kind"), max_length=12, choices=ImportKind.choices)
    columns = models.JSONField(_("columns"), default=dict)  # field -> header text
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "source", "kind"], name="import_mapping_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.source} / {self.kind}"


class ImportJob(TenantModel):
    """One import of one file: its settings, status and progress. Rows are applied in batches; a batch
    commits with its source-id map and the job's ``done_line``, so a killed job resumes after it."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(_("kind"), max_length=12, choices=ImportKind.choices)
    source = models.CharField(_("source"), max_length=60)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.ALL)
    on_duplicate = models.CharField(
        _("duplicates"), max_length=8, choices=OnDuplicate.choices, default=OnDuplicate.FLAG
    )
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(_("status"), max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED)
    phase = models.CharField(max_length=12, blank=True)  # applying (validating: jobs before 2026-12-06)
    filename = models.CharField(_("file"), max_length=200)
    stored_name = models.CharField(max_length=80)  # under MEDIA_ROOT/imports/<org>/
    ext = models.CharField(max_length=5)
    columns = models.JSONField(default=dict)  # field -> header text
    total_lines = models.PositiveIntegerField(default=0)
    done_line = models.PositiveIntegerField(default=0)  # every row up to this line is applied
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    failed_rows = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    created_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="import_job_org_created_idx"),
            models.Index(fields=["organization", "status"], name="import_job_org_status_idx"),
            models.Index(fields=["organization", "branch"], name="import_job_org_branch_idx"),
            models.Index(fields=["organization", "created_by"], name="import_job_org_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.filename}"

    @property
    def percent(self) -> int:
        if not self.total_lines:
            return 100 if self.status == JobStatus.DONE else 0
        return min(100, int(100 * self.done_line / self.total_lines))


class SourceRecord(TenantModel):
    """(organisation, source, kind, source id) → the object it became: re-importing the same row finds
    it here and changes nothing."""

    source = models.CharField(max_length=60)
    kind = models.CharField(max_length=12)
    source_id = models.CharField(max_length=120)
    object_id = models.UUIDField()
    job = models.ForeignKey(
        ImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source", "kind", "source_id"], name="import_source_record_uniq"
            ),
        ]
        indexes = [models.Index(fields=["organization", "job"], name="import_source_org_job_idx")]


class IssueLevel(models.TextChoices):
    ERROR = "error", _("Error")
    DUPLICATE = "duplicate", _("Possible duplicate")


class ImportIssue(TenantModel):
    """A row that was refused (its line, column and problem) or flagged as a possible duplicate."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues", db_index=False)
    level = models.CharField(max_length=10, choices=IssueLevel.choices, default=IssueLevel.ERROR)
    line = models.PositiveIntegerField()
    column = models.CharField(max_length=200, blank=True)
    problem = models.CharField(max_length=500)
    value = models.CharField(max_length=200, blank=True)
    object_id = models.UUIDField(null=True, blank=True)  # the new patient of a flagged row
    other_id = models.UUIDField(null=True, blank=True)  # the existing patient it may duplicate

    class Meta:
        ordering = ["line", "id"]
        indexes = [models.Index(fields=["organization", "job", "line"], name="import_issue_org_job_idx")]
