"""Saved what-if scenarios and the hypothesis log (issue #18): a scenario keeps its levers and the
prediction made with them; a hypothesis records an idea, the effect a scenario expects, its period,
the effect measured from real data once the period is over, and the decision taken."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import TenantModel


class PlanScenario(TenantModel):
    name = models.CharField(_("name"), max_length=200)
    note = models.TextField(_("note"), blank=True)
    levers = models.JSONField(default=dict)  # lever name → value (a decimal string)
    months = models.PositiveSmallIntegerField(_("months"), default=6)
    first_month = models.DateField(_("first month"))  # the first predicted month
    prediction = models.JSONField(default=dict)  # forecast.Forecast.as_json() with the levers
    baseline = models.JSONField(default=dict)  # the same without them
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="planscenario_org_name_uniq")
        ]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="planscenario_org_created_idx"),
            models.Index(fields=["organization", "created_by"], name="planscenario_org_author_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class HypothesisStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    MEASURED = "measured", _("Measured")
    DECIDED = "decided", _("Decided")


class Hypothesis(TenantModel):
    idea = models.CharField(_("idea"), max_length=300)
    scenario = models.ForeignKey(
        PlanScenario, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    expected = models.JSONField(default=dict)  # the scenario's predicted totals and change when logged
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    measured = models.JSONField(default=dict)  # the realised figures of [start, end] and their comparison
    measured_at = models.DateTimeField(null=True, blank=True)
    decision = models.TextField(_("decision"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=HypothesisStatus.choices, default=HypothesisStatus.PLANNED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-start", "-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="hypothesis_period")
        ]
        indexes = [
            models.Index(fields=["organization", "start"], name="hypothesis_org_start_idx"),
            models.Index(fields=["organization", "scenario"], name="hypothesis_org_scenario_idx"),
            models.Index(fields=["organization", "created_by"], name="hypothesis_org_author_idx"),
        ]

    def __str__(self) -> str:
        return self.idea


# the planner's return facts (issue #18's speed, ``pricing.return_facts``)
from clinicflow.analytics.pricing.return_models import ReturnGapFact, ReturnLinkFact  # noqa: E402, F401
