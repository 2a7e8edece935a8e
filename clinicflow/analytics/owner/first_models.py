"""The first visits of each patient where the daily facts count them (issue #17): one row per patient,
branch and local day of their first booked visit and/or first visit that happened (``booked``,
``arrived``), with the lifecycle funnel's flags of that first visit (set on the ``arrived`` rows only).
``DayFact``'s first-visit counts of a day are these rows grouped (``owner.facts_sql``); a change to a
patient rewrites only that patient's rows, and the days they were on and are now on are counted again
(``owner.changes``), whatever else happened on those days."""

from __future__ import annotations

from django.db import models

from clinicflow.core.models import Organization, TenantModel


class FirstVisitFact(TenantModel):
    # derived rows written in bulk: no foreign-key check per row at COMMIT (``models.derived_fk``)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    patient_id = models.UUIDField()
    branch_id = models.UUIDField()
    day = models.DateField()
    booked = models.BooleanField(default=False)
    arrived = models.BooleanField(default=False)
    treated = models.BooleanField(default=False)
    returned = models.BooleanField(default=False)
    third = models.BooleanField(default=False)
    referred = models.BooleanField(default=False)
    satisfied = models.BooleanField(default=False)

    class Meta:
        app_label = "analytics"
        indexes = [
            # a cell's first patients read from the index alone (the incremental update's events)
            models.Index(
                fields=["organization", "day", "branch_id"],
                include=["patient_id", "arrived"],
                name="firstvisit_org_day_cover",
            ),
            models.Index(fields=["organization", "patient_id"], name="firstvisit_org_patient_idx"),
        ]
