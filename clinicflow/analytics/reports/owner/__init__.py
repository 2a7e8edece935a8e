"""The owner's reports (issue #17): ``owner_home`` (the figures and the lifecycle funnel), ``revenue``
(by branch, service category, service, doctor; from the daily facts), ``cohorts``, ``clv_classes``,
``recall_candidates``, ``doctors_balanced`` and ``scorecards``."""

from clinicflow.analytics.reports.owner import cohorts, doctors, home, revenue, scorecards, value

__all__ = ["cohorts", "doctors", "home", "revenue", "scorecards", "value"]
