"""Clinical records: treatments — SOPs (versioned checklists per service), treatment records with the
drugs and devices used (lot numbers for traceability), amendments after sign-off, complications.

A signed-off treatment record is append-only: its fields and product lines never change again; an
amendment records who changed what (a field diff) and why, and the original stays as it was.
Amendments, SOP versions and complication entries are append-only from the start (a correction of a
complication is a new entry that names the one it corrects). ``APPEND_ONLY_SQL`` holds the PostgreSQL
triggers for the app's migration."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.booking.models import Appointment, Doctor
from clinicflow.catalogue.models import Service
from clinicflow.core.models import (
    AppendOnlyTenantManager,
    TenantModel,
    TenantQuerySet,
    staff_ref,
)
from clinicflow.patients.models import Patient

__all__ = [
    "APPEND_ONLY_SQL",
    "Complication",
    "ComplicationOutcome",
    "Severity",
    "Sop",
    "SopVersion",
    "TreatmentAmendment",
    "TreatmentProduct",
    "TreatmentRecord",
    "TreatmentUnit",
    "normalise_lot",
]


def normalise_lot(value: str) -> str:
    """A batch/lot number as stored and searched: trimmed, inner spaces removed, upper case."""
    return "".join(str(value).split()).upper()


class SignedQuerySet(TenantQuerySet["TreatmentRecord"]):
    """Treatment records: bulk update or delete refused when any matched record is signed off."""

    def update(self, **kwargs: Any) -> int:
        if self.filter(signed_at__isnull=False).exists():
            raise TypeError("a signed-off treatment record is append-only")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.filter(signed_at__isnull=False).exists():
            raise TypeError("a signed-off treatment record is append-only")
        return super().delete()


class ProductQuerySet(TenantQuerySet["TreatmentProduct"]):
    def update(self, **kwargs: Any) -> int:
        if self.filter(record__signed_at__isnull=False).exists():
            raise TypeError("a signed-off treatment record is append-only")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.filter(record__signed_at__isnull=False).exists():
            raise TypeError("a signed-off treatment record is append-only")
        return super().delete()


class _InsertOnly(TenantModel):
    """A row that is written once: ``save`` of an existing row and ``delete`` raise."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{type(self).__name__} is append-only")


class Sop(TenantModel):
    """The standard operating procedure of one service: its checklist lives in versions."""

    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", db_index=False)
    title = models.CharField(_("title"), max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("SOP")
        constraints = [
            models.UniqueConstraint(fields=["organization", "service"], name="sop_org_service_uniq")
        ]

    def __str__(self) -> str:
        return self.title


class SopVersion(_InsertOnly):
    """One version of an SOP's checklist (``items``: a list of strings); editing makes a new one."""

    sop = models.ForeignKey(Sop, on_delete=models.PROTECT, related_name="versions", db_index=False)
    version = models.PositiveIntegerField()
    items = models.JSONField(default=list)
    created_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[AppendOnlyTenantManager[SopVersion]] = AppendOnlyTenantManager()

    class Meta:
        ordering = ["sop", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "sop", "version"], name="sopversion_org_sop_ver_uniq"
            )
        ]


class TreatmentRecord(TenantModel):
    """What was done at one appointment (one record per appointment); append-only once signed off."""

    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", db_index=False)
    doctor = models.ForeignKey(Doctor, on_delete=models.PROTECT, related_name="+", db_index=False)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", db_index=False)
    services_done = models.JSONField(_("services done"), default=list)  # catalogue service ids (str)
    map_notes = models.JSONField(_("treatment map"), default=dict)  # {area: note}
    sop_version = models.ForeignKey(
        SopVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    sop_checked = models.JSONField(_("SOP items checked"), default=list)  # indexes into sop_version.items
    notes = models.TextField(_("notes"), max_length=5000, blank=True)
    created_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    signed_at = models.DateTimeField(_("signed off"), null=True, blank=True)
    signed_by = staff_ref()

    objects: ClassVar[models.Manager[TreatmentRecord]] = models.Manager.from_queryset(SignedQuerySet)()

    class Meta:
        verbose_name = _("treatment record")
        constraints = [
            models.UniqueConstraint(fields=["organization", "appointment"], name="treatment_org_appt_uniq")
        ]
        indexes = [
            models.Index(fields=["organization", "patient", "created_at"], name="treatment_org_patient_idx"),
            models.Index(fields=["organization", "signed_at", "doctor"], name="treatment_org_signed_idx"),
        ]

    def _stored_signed(self) -> bool:
        return (
            type(self)
            .objects.filter(pk=self.pk, signed_at__isnull=False)
            .values_list("pk", flat=True)
            .exists()
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and self._stored_signed():
            raise TypeError("a signed-off treatment record is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self._stored_signed():
            raise TypeError("a signed-off treatment record is append-only")
        return super().delete(*args, **kwargs)


class TreatmentUnit(models.TextChoices):
    ML = "ml", "ml"
    UNITS = "U", "U"
    MG = "mg", "mg"
    PIECES = "pcs", "pcs"
    SHOTS = "shots", "shots"
    J = "J", "J"


class TreatmentProduct(TenantModel):
    """One drug or device used: name, manufacturer, lot (normalised), amount and unit, area."""

    record = models.ForeignKey(
        TreatmentRecord, on_delete=models.CASCADE, related_name="products", db_index=False
    )
    name = models.CharField(_("drug or device"), max_length=200)
    manufacturer = models.CharField(_("manufacturer"), max_length=200, blank=True)
    lot = models.CharField(_("batch/lot number"), max_length=60)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=3)
    unit = models.CharField(_("unit"), max_length=8, choices=TreatmentUnit.choices)
    area = models.CharField(_("area"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    objects: ClassVar[models.Manager[TreatmentProduct]] = models.Manager.from_queryset(ProductQuerySet)()

    class Meta:
        ordering = ["position"]
        indexes = [
            models.Index(fields=["organization", "lot"], name="treatmentproduct_org_lot_idx"),
            models.Index(fields=["organization", "record", "position"], name="treatmentproduct_org_rec_idx"),
        ]

    def _record_signed(self) -> bool:
        return TreatmentRecord.objects.filter(pk=self.record_id, signed_at__isnull=False).exists()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._record_signed():
            raise TypeError("a signed-off treatment record is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self._record_signed():
            raise TypeError("a signed-off treatment record is append-only")
        return super().delete(*args, **kwargs)


class TreatmentAmendment(_InsertOnly):
    """A change to a signed-off record: who, when, the field diff ``{field: [old, new]}``, why."""

    record = models.ForeignKey(
        TreatmentRecord, on_delete=models.PROTECT, related_name="amendments", db_index=False
    )
    at = models.DateTimeField(default=timezone.now)
    by = staff_ref()
    changes = models.JSONField(default=dict)
    reason = models.CharField(_("reason"), max_length=500)

    objects: ClassVar[AppendOnlyTenantManager[TreatmentAmendment]] = AppendOnlyTenantManager()

    class Meta:
        ordering = ["at"]
        indexes = [models.Index(fields=["organization", "record", "at"], name="treatmentamend_org_rec_idx")]


class Severity(models.TextChoices):
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")


class ComplicationOutcome(models.TextChoices):
    ONGOING = "ongoing", _("Ongoing")
    RESOLVED = "resolved", _("Resolved")
    REFERRED = "referred", _("Referred")
    SEQUELAE = "sequelae", _("Resolved with sequelae")


class Complication(_InsertOnly):
    """One complication entry; append-only. A correction is a new entry with ``corrects`` set: the
    case is the newest entry of its chain."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", db_index=False)
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    treatment = models.ForeignKey(
        TreatmentRecord, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    doctor = models.ForeignKey(
        Doctor, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    onset_date = models.DateField(_("onset"))
    description = models.TextField(_("description"), max_length=5000)
    treatment_given = models.TextField(_("treatment given"), max_length=5000, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=ComplicationOutcome.choices)
    follow_up_date = models.DateField(_("follow-up date"), null=True, blank=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="corrections", db_index=False
    )
    recorded_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[AppendOnlyTenantManager[Complication]] = AppendOnlyTenantManager()

    class Meta:
        ordering = ["-onset_date", "-created_at"]
        indexes = [
            models.Index(fields=["organization", "onset_date"], name="complication_org_onset_idx"),
            models.Index(fields=["organization", "patient"], name="complication_org_patient_idx"),
            models.Index(fields=["organization", "corrects"], name="complication_org_corrects_idx"),
        ]


_SIGNED_FN = """
CREATE OR REPLACE FUNCTION clinical_treatment_signed_only() RETURNS trigger AS $$
BEGIN
    IF OLD.signed_at IS NOT NULL THEN
        RAISE EXCEPTION '% is append-only once signed off', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
_PRODUCT_FN = """
CREATE OR REPLACE FUNCTION clinical_treatmentproduct_signed_only() RETURNS trigger AS $$
DECLARE rec uuid;
BEGIN
    rec := CASE WHEN TG_OP = 'INSERT' THEN NEW.record_id ELSE OLD.record_id END;
    IF EXISTS (SELECT 1 FROM clinical_treatmentrecord WHERE id = rec AND signed_at IS NOT NULL)
       OR (TG_OP = 'UPDATE' AND EXISTS (
           SELECT 1 FROM clinical_treatmentrecord WHERE id = NEW.record_id AND signed_at IS NOT NULL)) THEN
        RAISE EXCEPTION 'the treatment record is signed off' USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

# PostgreSQL triggers for the app's migration (run only on PostgreSQL; ``clinicflow_append_only()`` is
# created by core's migration 0002).
APPEND_ONLY_SQL: list[str] = [
    _SIGNED_FN,
    "DROP TRIGGER IF EXISTS clinical_treatmentrecord_signed ON clinical_treatmentrecord;",
    "CREATE TRIGGER clinical_treatmentrecord_signed BEFORE UPDATE OR DELETE ON clinical_treatmentrecord"
    " FOR EACH ROW EXECUTE FUNCTION clinical_treatment_signed_only();",
    _PRODUCT_FN,
    "DROP TRIGGER IF EXISTS clinical_treatmentproduct_signed ON clinical_treatmentproduct;",
    "CREATE TRIGGER clinical_treatmentproduct_signed BEFORE INSERT OR UPDATE OR DELETE"
    " ON clinical_treatmentproduct FOR EACH ROW EXECUTE FUNCTION clinical_treatmentproduct_signed_only();",
    *(
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}; "
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}"
        " FOR EACH ROW EXECUTE FUNCTION clinicflow_append_only();"
        for table in ("clinical_treatmentamendment", "clinical_complication", "clinical_sopversion")
    ),
]
