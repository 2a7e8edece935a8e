"""Identifiers that FHIR resources brought from other systems (an MRN, another EHR's appointment id).

They make a FHIR import idempotent (a Patient whose identifier is known is the same patient) and let
``Patient?identifier=system|value`` find a patient by the id it had elsewhere."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import TenantModel


class ResourceKind(models.TextChoices):
    PATIENT = "Patient", _("Patient")
    APPOINTMENT = "Appointment", _("Appointment")


class ExternalIdentifier(TenantModel):
    resource_type = models.CharField(_("resource type"), max_length=20, choices=ResourceKind.choices)
    system = models.CharField(_("identifier system"), max_length=200)
    value = models.CharField(_("identifier value"), max_length=200)
    # the patient's or appointment's id (two kinds of target: no foreign key)
    local_id = models.UUIDField(_("local id"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("external identifier")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "resource_type", "system", "value"], name="fhir_ident_org_system_uniq"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "resource_type", "local_id"], name="fhir_ident_org_local_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type} {self.system}|{self.value}"
