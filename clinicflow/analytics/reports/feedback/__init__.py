"""Reports of the feedback app (registered at import): ``nps`` and ``csat`` (by branch, doctor,
consultant, service or month, with 95% intervals), ``expectation_gap`` (per consultant or service,
flagged consultants, conversion and later NPS beside), ``complaints``, ``survey_response`` and
``improvement_tags`` (what could be better).

Entry points (pure functions of the database, also used by the planted-truth checks):
``satisfaction_rows``, ``gap_rows``, ``complaint_rows``, ``response_rows``, ``tag_rows``; the
statistics in ``stats``."""

from clinicflow.analytics.reports.feedback.gap import gap_rows
from clinicflow.analytics.reports.feedback.operations import complaint_rows, response_rows
from clinicflow.analytics.reports.feedback.satisfaction import satisfaction_rows
from clinicflow.analytics.reports.feedback.tags import tag_rows

__all__ = ["complaint_rows", "gap_rows", "response_rows", "satisfaction_rows", "tag_rows"]
