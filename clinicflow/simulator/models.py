"""The simulator's own records: a log of simulation runs. (Consultations, quotes, consents,
treatments and complications are written through the clinical app's models, surveys and complaints
through feedback's, follow-up tasks and recall contacts through care's, memberships, points and
referrals through the ledger's.)

Every row belongs to an organisation (TenantModel); foreign keys other than the organisation are
unindexed and covered by indexes that start with ``organization``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from clinicflow.core.models import TenantModel


def _fk(model: type[models.Model], *, null: bool = False) -> models.ForeignKey[Any, Any]:
    return models.ForeignKey(
        model, on_delete=models.CASCADE, related_name="+", db_index=False, null=null, blank=null
    )


class SimulationRun(TenantModel):
    """One `clinicflow simulate` run into an organisation: its scenario, seed and row counts."""

    scenario = models.CharField(max_length=200)
    seed = models.BigIntegerField()
    months = models.PositiveIntegerField()
    start_date = models.DateField()
    end_date = models.DateField()
    rows = models.JSONField(default=dict, blank=True)
    truth = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "created_at"], name="simrun_org_created_idx")]
