"""The simulator's own records, for features whose product models do not exist yet: memberships,
loyalty points and referrals — plus a log of simulation runs. (Consultations, quotes, consents,
treatments and complications are written through the clinical app's models, surveys and complaints
through feedback's, follow-up tasks and recall contacts through care's.)

Every row belongs to an organisation (TenantModel); foreign keys other than the organisation are
unindexed and covered by indexes that start with ``organization``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.booking.models import Appointment
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, TenantModel
from clinicflow.patients.models import Patient


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


class MembershipKind(models.TextChoices):
    FEE = "fee", _("Fee-based")
    STORED_VALUE = "stored_value", _("Stored value with a bonus")
    PACKAGE = "package", _("Prepaid procedure package")


class Membership(TenantModel):
    patient = _fk(Patient)
    branch = _fk(Branch)
    kind = models.CharField(max_length=12, choices=MembershipKind.choices)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    bonus = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3)
    sessions = models.PositiveSmallIntegerField(default=0)
    service = _fk(Service, null=True)
    started_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["organization", "kind", "started_at"], name="simmember_org_kind_idx"),
            models.Index(fields=["organization", "patient"], name="simmember_org_patient_idx"),
            models.Index(fields=["organization", "branch"], name="simmember_org_branch_idx"),
            models.Index(fields=["organization", "service"], name="simmember_org_service_idx"),
        ]


class PointsEntry(TenantModel):
    """Points earned (positive) on a paid visit or redeemed (negative)."""

    patient = _fk(Patient)
    appointment = _fk(Appointment, null=True)
    points = models.IntegerField()
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["organization", "patient", "at"], name="simpoints_org_patient_idx"),
            models.Index(fields=["organization", "appointment"], name="simpoints_org_appt_idx"),
        ]


class Referral(TenantModel):
    """A friend brought by a patient (a promoter); ``referred`` is set when the friend booked."""

    referrer = _fk(Patient)
    referred = _fk(Patient, null=True)
    at = models.DateTimeField()
    booked = models.BooleanField()

    class Meta:
        indexes = [
            models.Index(fields=["organization", "referrer"], name="simref_org_referrer_idx"),
            models.Index(fields=["organization", "referred"], name="simref_org_referred_idx"),
            models.Index(fields=["organization", "at"], name="simref_org_at_idx"),
        ]
