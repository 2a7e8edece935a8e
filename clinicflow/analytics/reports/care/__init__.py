"""Reports of the care app (registered at import): ``tasks`` (follow-up tasks done on time) and
``recall`` (per recall list: contacted, booked within 7 and 60 days, shares with 95% intervals).

Entry points (pure functions of the database, also used by the planted-truth checks):
``task_rows(org=, start=, end=, by=, branch=, now=)`` and ``recall_rows(org=, start=, end=)``."""

from clinicflow.analytics.reports.care.followups import task_rows
from clinicflow.analytics.reports.care.recall import recall_rows

__all__ = ["recall_rows", "task_rows"]
