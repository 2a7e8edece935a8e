"""Complaints opened by a detractor's answer (or by staff): an owner, a deadline and a status trail
(new → in progress → resolved / closed with the resolution). Events are append-only."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.booking.models import Doctor
from clinicflow.core.models import AppendOnlyTenantManager, Branch, TenantModel, staff_ref
from clinicflow.feedback.models.surveys import SurveyAnswer
from clinicflow.patients.models import Patient

__all__ = ["OPEN_STATUSES", "Complaint", "ComplaintEvent", "ComplaintStatus"]


class ComplaintStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (ComplaintStatus.NEW, ComplaintStatus.IN_PROGRESS)


class Complaint(TenantModel):
    answer = models.ForeignKey(
        SurveyAnswer, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", db_index=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", db_index=False)
    doctor = models.ForeignKey(
        Doctor, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    owner = staff_ref()
    reason = models.CharField(_("reason"), max_length=300)
    status = models.CharField(
        _("status"), max_length=12, choices=ComplaintStatus.choices, default=ComplaintStatus.NEW
    )
    deadline = models.DateTimeField(_("deadline"))
    resolution = models.TextField(_("resolution"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        ordering = ["deadline"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "answer"], name="complaint_org_answer_uniq")
        ]
        indexes = [
            models.Index(fields=["organization", "status", "deadline"], name="complaint_org_status_idx"),
            models.Index(fields=["organization", "patient", "created_at"], name="complaint_org_patient_idx"),
            models.Index(fields=["organization", "created_at"], name="complaint_org_created_idx"),
        ]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.deadline < timezone.now()


class ComplaintEvent(TenantModel):
    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="events", db_index=False)
    status_from = models.CharField(max_length=12, blank=True)
    status_to = models.CharField(max_length=12, choices=ComplaintStatus.choices)
    note = models.TextField(_("note"), blank=True)
    actor = staff_ref()
    at = models.DateTimeField(default=timezone.now)

    objects: ClassVar[AppendOnlyTenantManager[ComplaintEvent]] = AppendOnlyTenantManager()

    class Meta:
        verbose_name = _("complaint event")
        ordering = ["at"]
        indexes = [models.Index(fields=["organization", "complaint", "at"], name="complaint_evt_org_idx")]

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise TypeError("complaint events are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("complaint events are append-only")
