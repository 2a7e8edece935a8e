"""The capacity report's load as facts (issue #17: ``capacity_load``, the heat map and the empty hours
read these, not every appointment and working window): per branch, local day, local hour and either a
doctor (``room_id`` None) or a room (``doctor_id`` None), the available and booked seconds of the
capacity report's definition (``reports.capacity.compute_load``); and per branch, day and doctor or
room a row of the day's sums (``hour`` = ``DAY``: a tenth of the rows, read by every level but the
hour). Built by ``capload_facts``."""

from __future__ import annotations

from django.db import models

from clinicflow.core.models import TenantModel

DAY = -1  # the ``hour`` of a row holding the sums of the day's hours (read when no hour is asked)


class CapacityFact(TenantModel):
    branch_id = models.UUIDField()
    day = models.DateField()  # the branch's local day
    hour = models.SmallIntegerField()  # the branch's local hour (0-23); ``DAY``: the day's sum
    doctor_id = models.UUIDField(null=True)
    room_id = models.UUIDField(null=True)
    available_seconds = models.FloatField(default=0)
    booked_seconds = models.FloatField(default=0)

    class Meta:
        app_label = "analytics"
        # the day rows (``hour`` = ``DAY``) of a period apart from the hours': a tenth of the rows read
        indexes = [models.Index(fields=["organization", "hour", "day"], name="capfact_org_hour_day_idx")]
