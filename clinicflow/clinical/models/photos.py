"""Clinical records: before/after photos of a treatment area in a standard view.

The image itself is in the private photo storage (``clinicflow.clinical.storage``) under
``storage_key``, a random name; the row keeps what the validator measured (size, pixels, SHA-256 of
the stored bytes). EXIF is stripped on upload, so ``taken_at`` is the upload time."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.booking.models import Appointment
from clinicflow.core.models import TenantModel, staff_ref
from clinicflow.patients.models import Patient

__all__ = ["Photo", "PhotoArea", "PhotoKind", "PhotoView"]


class PhotoArea(models.TextChoices):
    FULL_FACE = "full_face", _("Full face")
    FOREHEAD = "forehead", _("Forehead")
    EYES = "eyes", _("Eye area")
    CHEEKS = "cheeks", _("Cheeks")
    NOSE = "nose", _("Nose")
    LIPS = "lips", _("Lips")
    CHIN_JAW = "chin_jaw", _("Chin and jawline")
    NECK = "neck", _("Neck")
    DECOLLETAGE = "decolletage", _("Décolletage")
    SCALP = "scalp", _("Scalp")
    HANDS = "hands", _("Hands")
    ABDOMEN = "abdomen", _("Abdomen")
    THIGHS = "thighs", _("Thighs")
    BUTTOCKS = "buttocks", _("Buttocks")
    BACK = "back", _("Back")
    TEETH = "teeth", _("Teeth")
    SMILE = "smile", _("Smile")


class PhotoView(models.TextChoices):
    FRONT = "front", _("Front")
    LEFT_45 = "left_45", _("45° left")
    RIGHT_45 = "right_45", _("45° right")
    PROFILE_LEFT = "profile_left", _("Profile left")
    PROFILE_RIGHT = "profile_right", _("Profile right")


class PhotoKind(models.TextChoices):
    BEFORE = "before", _("Before")
    AFTER = "after", _("After")


class Photo(TenantModel):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", db_index=False)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    area = models.CharField(_("area"), max_length=20, choices=PhotoArea.choices)
    view = models.CharField(_("view"), max_length=20, choices=PhotoView.choices)
    kind = models.CharField(_("before or after"), max_length=10, choices=PhotoKind.choices)
    taken_at = models.DateTimeField(_("taken"), default=timezone.now)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveIntegerField()
    content_type = models.CharField(max_length=20)
    sha256 = models.CharField(max_length=64)
    storage_key = models.CharField(max_length=200)
    uploaded_by = staff_ref()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-taken_at"]
        indexes = [
            models.Index(
                fields=["organization", "patient", "area", "view", "taken_at"], name="photo_org_patient_idx"
            ),
            models.Index(fields=["organization", "appointment"], name="photo_org_appt_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "storage_key"], name="photo_org_key_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.get_area_display()} {self.get_view_display()} {self.get_kind_display()}"
