"""Resources: doctors (with the branches they work in and the services they perform), rooms, equipment."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.catalogue.models import RoomType, Service
from clinicflow.core.models import Branch, TenantModel


def new_token() -> str:
    return secrets.token_urlsafe(32)


class Doctor(TenantModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        verbose_name=_("staff account"),
    )
    full_name = models.CharField(_("full name"), max_length=200)
    specialty = models.CharField(_("specialty"), max_length=200, blank=True)
    is_consultant = models.BooleanField(_("consultant"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    # the calendar feed's secret address: only its SHA-256 is stored (the address is shown once, when
    # made) and it stops working at ``ical_expires_at`` or when a new one is made
    ical_token_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    ical_expires_at = models.DateTimeField(null=True, blank=True, default=None, editable=False)
    branches = models.ManyToManyField(Branch, through="DoctorBranch", related_name="+")
    services = models.ManyToManyField(Service, through="DoctorService", related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("doctor")
        ordering = ["full_name"]
        indexes = [
            models.Index(fields=["organization", "user"], name="doctor_org_user_idx"),
            models.Index(fields=["organization", "full_name"], name="doctor_org_name_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "ical_token_hash"],
                condition=~models.Q(ical_token_hash=""),
                name="doctor_org_ical_hash_uniq",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name


class DoctorBranch(TenantModel):
    """A branch the doctor works in."""

    doctor = models.ForeignKey(Doctor, on_delete=models.CASCADE, related_name="+", db_index=False)
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "doctor", "branch"], name="doctorbranch_org_doctor_branch_uniq"
            ),
        ]
        indexes = [models.Index(fields=["organization", "branch"], name="doctorbranch_org_branch_idx")]


class DoctorService(TenantModel):
    """A service the doctor may perform."""

    doctor = models.ForeignKey(Doctor, on_delete=models.CASCADE, related_name="+", db_index=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "doctor", "service"], name="doctorservice_org_doctor_service_uniq"
            ),
        ]
        indexes = [models.Index(fields=["organization", "service"], name="doctorservice_org_service_idx")]


class Room(TenantModel):
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(_("name"), max_length=100)
    room_type = models.CharField(_("room type"), max_length=20, choices=RoomType.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("room")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "branch", "name"], name="room_org_branch_name_uniq"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "branch", "room_type"], name="room_org_branch_type_idx")
        ]

    def __str__(self) -> str:
        return self.name


class Equipment(TenantModel):
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(_("name"), max_length=100)
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["organization", "branch"], name="equipment_org_branch_idx"),
            models.Index(fields=["organization", "room"], name="equipment_org_room_idx"),
        ]

    def __str__(self) -> str:
        return self.name
