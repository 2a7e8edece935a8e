"""Follow-up plans: one per service, edited by the manager; its steps become tasks when a treatment
is done (``services.generation``)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.accounts.roles import Role
from clinicflow.catalogue.models import Service
from clinicflow.core.models import TenantModel, staff_ref

__all__ = ["RECALL_ACTIONS", "Action", "FollowUpPlan", "FollowUpStep"]


class Action(models.TextChoices):
    CALL = "call", _("Call")
    CHECKUP = "checkup", _("Check-up visit")
    PHOTO = "photo", _("Photo visit")
    COURSE_SESSION = "course_session", _("Next course session")
    MAINTENANCE = "maintenance", _("Maintenance")
    YEARLY_CHECK = "yearly_check", _("Yearly check")


# the actions that bring the patient back: their due tasks feed the recall lists
RECALL_ACTIONS = (Action.COURSE_SESSION, Action.MAINTENANCE, Action.YEARLY_CHECK)


class FollowUpPlan(TenantModel):
    """The aftercare plan of a service (at most one per service). A plan of no service makes no tasks:
    it holds the steps of tasks imported or simulated without one (``simulator.writers.care``)."""

    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = staff_ref()

    class Meta:
        verbose_name = _("follow-up plan")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "service"], name="careplan_org_service_uniq"),
        ]

    def __str__(self) -> str:
        return self.name


class FollowUpStep(TenantModel):
    """One step: what to do (``action``), when (``day_offset`` days plus ``months`` months after the
    visit, on the branch's calendar), by whom (a role, or a person) and what to say (``script``)."""

    plan = models.ForeignKey(FollowUpPlan, on_delete=models.CASCADE, related_name="steps", db_index=False)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    day_offset = models.PositiveSmallIntegerField(
        _("days after the visit"), default=0, validators=[MaxValueValidator(3650)]
    )
    months = models.PositiveSmallIntegerField(
        _("months after the visit"), default=0, validators=[MaxValueValidator(120)]
    )
    assignee_role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    assignee = staff_ref()
    script = models.TextField(_("call script"), blank=True, max_length=4000)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("follow-up step")
        ordering = ["position", "months", "day_offset"]
        indexes = [models.Index(fields=["organization", "plan", "position"], name="carestep_org_plan_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} +{self.months}m{self.day_offset}d"
