"""The capacity report's load as facts (issue #17: ``capacity_load`` reads these, not every appointment
and working window): per branch and local day, the available and booked seconds of the capacity
report's definition (``reports.capacity.compute_load``) of each doctor (``room_id`` None) and of each
room (``doctor_id`` None), ``hour`` = ``DAY``; and per branch, day and local hour (0-23) those of its
doctors together (``doctor_id`` and ``room_id`` None: the "by hour" view). Built by ``capload_facts``."""

from __future__ import annotations

from django.db import models

from clinicflow.analytics.models import derived_fk
from clinicflow.core.models import Organization, TenantModel

DAY = -1  # the ``hour`` of a doctor's or room's row of a day (read when no hour is asked)


class CapacityFact(TenantModel):
    # no database constraint (``derived_fk``): a deferred check per row at COMMIT cost more than the rows
    organization = derived_fk(Organization, on_delete=models.PROTECT)
    branch_id = models.UUIDField()
    day = models.DateField()  # the branch's local day
    hour = models.SmallIntegerField()  # the branch's local hour (0-23, its doctors'); ``DAY``: a day's
    doctor_id = models.UUIDField(null=True)
    room_id = models.UUIDField(null=True)
    available_seconds = models.FloatField(default=0)
    booked_seconds = models.FloatField(default=0)

    class Meta:
        app_label = "analytics"
        # the day rows (``hour`` = ``DAY``) of a period apart from the branches' hour rows
        indexes = [models.Index(fields=["organization", "hour", "day"], name="capfact_org_hour_day_idx")]
