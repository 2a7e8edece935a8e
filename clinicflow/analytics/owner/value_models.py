"""The patients' lifetime value as facts (issue #17: ``clv_classes`` and ``recall_candidates`` read these,
not every payment): one ``PatientValueFact`` per stored prediction (``patients.PatientPrediction``) with
the patient's net revenue to date in the prediction's currency (``hist_cents``, kept current as payments
change), the predicted value (``pred_cents``), P(alive), and the patient's place when the facts were
built (a full rebuild, or predictions stored): their rank by historical plus predicted value in the
chain and in their branch, their class there (A/B/C) and, for class A patients lapsing (P(alive) below
one half in the top fifth), their place in the recall list. ``ValueClassFact`` holds each class's sums
(``branch_id`` None: the chain), changed by the same amount as the rows when a payment changes."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from clinicflow.analytics.models import derived_fk
from clinicflow.core.models import Organization, TenantModel


class PatientValueFact(TenantModel):
    # derived rows written in bulk: no deferred foreign-key check per row at COMMIT (``derived_fk``)
    organization = derived_fk(Organization, on_delete=models.PROTECT)
    patient_id = models.UUIDField()
    branch_id = models.UUIDField(null=True)  # the patient's branch when built
    currency = models.CharField(max_length=3)
    hist_cents = models.BigIntegerField(default=0)
    pred_cents = models.BigIntegerField(default=0)
    p_alive = models.FloatField()
    rank = models.IntegerField()  # 1: the most valuable of the chain (the patient id breaks ties)
    branch_rank = models.IntegerField()
    klass = models.CharField(max_length=1)
    branch_klass = models.CharField(max_length=1)
    recall = models.IntegerField(null=True)  # place in the chain's recall list (None: not in it)
    branch_recall = models.IntegerField(null=True)

    class Meta:
        app_label = "analytics"
        indexes = [
            models.Index(fields=["organization", "patient_id"], name="valuefact_org_patient_idx"),
            models.Index(
                fields=["organization", "currency", "recall"],
                name="valuefact_org_recall_idx",
                condition=Q(recall__isnull=False),
            ),
            models.Index(
                fields=["organization", "currency", "branch_id", "branch_recall"],
                name="valuefact_org_brecall_idx",
                condition=Q(branch_recall__isnull=False),
            ),
        ]


class ValueClassFact(TenantModel):
    organization = derived_fk(Organization, on_delete=models.PROTECT)
    branch_id = models.UUIDField(null=True)  # None: the whole chain
    currency = models.CharField(max_length=3)
    klass = models.CharField(max_length=1)
    patients = models.IntegerField(default=0)
    hist_cents = models.BigIntegerField(default=0)
    pred_cents = models.BigIntegerField(default=0)

    class Meta:
        app_label = "analytics"
        indexes = [
            models.Index(fields=["organization", "currency", "branch_id"], name="valueclass_org_cur_idx"),
        ]
