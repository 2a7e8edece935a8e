"""Audiences: saved segments of patients, defined by filters (see ``selectors.audiences.FIELDS``)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import TenantModel


class Audience(TenantModel):
    name = models.CharField(_("name"), max_length=200)
    filters = models.JSONField(_("filters"), default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("audience")
        ordering = ["name"]
        indexes = [models.Index(fields=["organization", "name"], name="audience_org_name_idx")]

    def __str__(self) -> str:
        return self.name
