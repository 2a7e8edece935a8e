"""Follow-up tasks: a plan step made concrete for one done visit, with its due date on the branch's
calendar, its assignee and, once worked, its outcome. Created once per (visit, step): the unique
constraint makes generation idempotent (``services.generation``)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.accounts.roles import Role
from clinicflow.booking.models import Appointment, Doctor
from clinicflow.care.models.plans import Action, FollowUpStep
from clinicflow.core.models import Branch, TenantModel, staff_ref
from clinicflow.patients.models import Patient

__all__ = ["AftercareRun", "FollowUpTask", "Outcome", "TaskStatus"]


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


class Outcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    BOOKED = "booked", _("Booked")
    DECLINED = "declined", _("Declined")
    SENT = "sent", _("Message sent")  # a recall message queued: not yet an answer


class FollowUpTask(TenantModel):
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="+", db_index=False)
    step = models.ForeignKey(FollowUpStep, on_delete=models.CASCADE, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+", db_index=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", db_index=False)
    doctor = models.ForeignKey(
        Doctor, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    day_offset = models.PositiveIntegerField(_("days after the visit"))
    due_on = models.DateField(_("due"))  # the branch's calendar day
    due_at = models.DateTimeField(_("due at"))  # the end of that day in the branch's zone (UTC stored)
    assignee_role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)
    assignee = staff_ref()
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = staff_ref()
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("follow-up task")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "appointment", "step"], name="caretask_org_appt_step_uniq"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "due_at"], name="caretask_org_status_due_idx"),
            models.Index(
                fields=["organization", "assignee", "status", "due_at"], name="caretask_org_user_idx"
            ),
            models.Index(
                fields=["organization", "assignee_role", "status", "due_at"], name="caretask_org_role_idx"
            ),
            models.Index(fields=["organization", "patient", "due_at"], name="caretask_org_patient_idx"),
            models.Index(fields=["organization", "branch", "due_at"], name="caretask_org_branch_idx"),
            models.Index(fields=["organization", "step"], name="caretask_org_step_idx"),
            models.Index(fields=["organization", "doctor"], name="caretask_org_doctor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.due_on}"


class AftercareRun(TenantModel):
    """A done visit that generation has handled (its tasks made, or none to make): the periodic job
    skips it. The tasks' own unique constraint still guards a retry that races past this."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="+", db_index=False)
    tasks = models.PositiveSmallIntegerField(default=0)
    thanked = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "appointment"], name="carerun_org_appt_uniq"),
        ]
