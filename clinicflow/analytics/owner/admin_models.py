"""The front desk's daily facts (issue #17, ``owner.admin_facts`` builds them): per organisation, branch,
local day (and UTC day) and administrator, the administrators report's counts."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models

from clinicflow.analytics.models import derived_fk
from clinicflow.core.models import Branch, Organization, TenantModel


class AdminDayFact(TenantModel):
    organization = derived_fk(Organization, on_delete=models.PROTECT)
    branch = derived_fk(Branch, null=True)  # null: calls tied to no branch (counted on their UTC day)
    day = models.DateField()  # the branch's local day
    utc_day = models.DateField()  # the UTC day (the chain's report periods)
    administrator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    unique_calls = models.IntegerField(default=0)
    booked = models.IntegerField(default=0)  # the caller's booked first visit starts at or after the call
    arrived = models.IntegerField(default=0)  # the caller's first visit that happened does
    scored = models.IntegerField(default=0)  # calls with a score
    score_tenths = models.BigIntegerField(default=0)  # Σ score × 10 (scores have one decimal)

    class Meta:
        app_label = "analytics"
        indexes = [
            models.Index(fields=["organization", "day", "branch"], name="adminfact_org_day_idx"),
            models.Index(fields=["organization", "utc_day"], name="adminfact_org_utcday_idx"),
        ]


def has_admin_facts(org: Organization) -> bool:
    """Whether the facts were built for the organisation (else the reports read the raw calls)."""
    return AdminDayFact.objects.for_org(org).exists()


def scoped_facts(
    org: Organization, d0: dt.date, d1: dt.date, branch: Branch | None
) -> models.QuerySet[AdminDayFact, AdminDayFact]:
    """The facts of a report's local days ``d0``..``d1``: a branch's, or the chain's UTC days
    (``reports.base.period_bounds``)."""
    qs = AdminDayFact.objects.for_org(org)
    if branch is not None:
        return qs.filter(branch=branch, day__gte=d0, day__lte=d1)
    return qs.filter(utc_day__gte=d0, utc_day__lte=d1)
