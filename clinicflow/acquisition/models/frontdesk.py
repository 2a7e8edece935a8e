"""The front desk's work on calls: checklists and scores, callbacks of missed calls, the weekly
review list."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.acquisition.models.calls import Call
from clinicflow.core.models import Branch, TenantModel, staff_ref


class CallChecklist(TenantModel):
    """The call checklist of a branch (``branch`` null = the organisation's default)."""

    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        indexes = [models.Index(fields=["organization", "branch"], name="checklist_org_branch_idx")]


class CallChecklistItem(TenantModel):
    checklist = models.ForeignKey(
        CallChecklist, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    code = models.SlugField(max_length=40)
    label = models.CharField(_("item"), max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "checklist", "code"], name="checkitem_org_code_uniq"
            )
        ]


class CallScore(TenantModel):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="scores", db_index=False)
    item = models.ForeignKey(CallChecklistItem, on_delete=models.CASCADE, related_name="+", db_index=False)
    passed = models.BooleanField()
    scored_by = staff_ref()
    scored_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "call", "item"], name="callscore_org_uniq")
        ]
        indexes = [models.Index(fields=["organization", "item"], name="callscore_org_item_idx")]


class CallbackTask(TenantModel):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="+", db_index=False)
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    phone = models.CharField(max_length=40, blank=True)
    due_at = models.DateTimeField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    assigned_to = staff_ref()
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "call"], name="callback_org_call_uniq")
        ]
        indexes = [
            models.Index(
                fields=["organization", "branch", "done_at", "due_at"], name="callback_org_open_idx"
            ),
            models.Index(fields=["organization", "phone"], name="callback_org_phone_idx"),
            models.Index(fields=["organization", "assigned_to"], name="callback_org_assignee_idx"),
        ]


class ReviewVerdict(models.TextChoices):
    GOOD = "good", _("Good example")
    BAD = "bad", _("Bad example")


class ReviewListEntry(TenantModel):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="+", db_index=False)
    week = models.DateField(_("week (Monday)"))
    verdict = models.CharField(_("verdict"), max_length=4, choices=ReviewVerdict.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    added_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["week", "verdict"]
        constraints = [models.UniqueConstraint(fields=["organization", "call"], name="review_org_call_uniq")]
        indexes = [models.Index(fields=["organization", "week"], name="review_org_week_idx")]
