from clinicflow.imports.models.jobs import (
    ImportIssue,
    ImportJob,
    ImportKind,
    ImportMapping,
    IssueLevel,
    JobStatus,
    Mode,
    OnDuplicate,
    SourceRecord,
)
from clinicflow.imports.models.yclients import YclientsLink

__all__ = [
    "ImportIssue",
    "ImportJob",
    "ImportKind",
    "ImportMapping",
    "IssueLevel",
    "JobStatus",
    "Mode",
    "OnDuplicate",
    "SourceRecord",
    "YclientsLink",
]
