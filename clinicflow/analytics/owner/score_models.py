"""The daily facts of the department scorecards and the balanced doctor (issue #17, ``owner.score_facts``
builds them): follow-ups, missed-call callbacks and website visits per branch and day, survey answers per
branch, day and doctor or consultant, treatments signed off and complications per UTC day and doctor.

Rows keep the branch's local day (``day``: a branch's report) and the UTC day (``utc_day``: the
chain's report, ``reports.base.period_bounds``); rows with no branch are on their UTC day."""

from __future__ import annotations

from django.db import models

from clinicflow.analytics.models import derived_fk
from clinicflow.booking.models import Doctor
from clinicflow.core.models import Branch, Organization, TenantModel


class ScoreDayFact(TenantModel):
    """Follow-ups (``care``) and missed-call callbacks (``acquisition``) by the local day they are due,
    website visits (``acquisition``) by the day they started."""

    organization = derived_fk(Organization, on_delete=models.PROTECT)
    branch = derived_fk(Branch, null=True)  # null: callbacks tied to no branch (on their UTC day)
    day = models.DateField()  # the branch's local day of ``due_at``
    utc_day = models.DateField()
    followups_due = models.IntegerField(default=0)  # follow-up tasks not cancelled
    followups_on_time = models.IntegerField(default=0)  # of those, done at or before their due moment
    callbacks = models.IntegerField(default=0)  # callback tasks of missed calls
    callbacks_done = models.IntegerField(default=0)  # of those, done (``done_at`` set)
    sessions = models.IntegerField(default=0)  # website visits (sessions) started

    class Meta:
        app_label = "analytics"
        indexes = [
            models.Index(fields=["organization", "day", "branch"], name="scorefact_org_day_idx"),
            models.Index(fields=["organization", "utc_day"], name="scorefact_org_utcday_idx"),
        ]


class AnswerDayFact(TenantModel):
    """Survey answers (``feedback``) by the local day they were given, their doctor and consultant: the
    NPS counts (``satisfaction_rows``, per doctor) and the expectation gap's sums (``gap_rows``, per
    consultant), exact integers."""

    organization = derived_fk(Organization, on_delete=models.PROTECT)
    branch = derived_fk(Branch)
    day = models.DateField()
    utc_day = models.DateField()
    doctor = derived_fk(Doctor)
    consultant = derived_fk(Doctor, null=True)
    answers = models.IntegerField(default=0)
    promoters = models.IntegerField(default=0)
    detractors = models.IntegerField(default=0)
    gap_answers = models.IntegerField(default=0)  # answers with an expectation and a result
    gap_sum = models.BigIntegerField(default=0)  # Σ (expectation − result)
    gap_squares = models.BigIntegerField(default=0)  # Σ (expectation − result)²

    class Meta:
        app_label = "analytics"
        indexes = [
            models.Index(fields=["organization", "day", "branch"], name="answerfact_org_day_idx"),
            models.Index(fields=["organization", "utc_day"], name="answerfact_org_utcday_idx"),
        ]


class ComplicationDayFact(TenantModel):
    """Per UTC day and doctor: treatment records signed off and complication cases (their current
    entries) with onset that day — the two sides of ``complication_rates`` (which reads no branch)."""

    organization = derived_fk(Organization, on_delete=models.PROTECT)
    day = models.DateField()
    doctor_id = models.UUIDField()
    treatments = models.IntegerField(default=0)
    complications = models.IntegerField(default=0)

    class Meta:
        app_label = "analytics"
        indexes = [models.Index(fields=["organization", "day"], name="complfact_org_day_idx")]
