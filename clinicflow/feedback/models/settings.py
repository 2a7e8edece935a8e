"""What a clinic edits about its feedback: improvement tags, review-site links per branch, the delay
after which a service's result has settled, and the survey and complaint timings."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.catalogue.models import ServiceCategory
from clinicflow.core.models import Branch, TenantModel

__all__ = [
    "DEFAULT_SETTLED_DAYS",
    "FeedbackSettings",
    "ImprovementTag",
    "ReviewLink",
    "SettledDelay",
]

# days after the visit until the result of a service group has settled (no settled survey: absent)
DEFAULT_SETTLED_DAYS: dict[str, int] = {
    ServiceCategory.BOTULINUM: 14,
    ServiceCategory.FILLERS: 14,
    ServiceCategory.INJECTABLES: 14,
    ServiceCategory.LASER: 30,
    ServiceCategory.PEELS: 14,
    ServiceCategory.BODY: 30,
    ServiceCategory.SURGERY: 60,
    ServiceCategory.DENTAL: 14,
}


class FeedbackSettings(TenantModel):
    survey_valid_days = models.PositiveSmallIntegerField(
        _("survey link valid for (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    complaint_deadline_hours = models.PositiveSmallIntegerField(
        _("complaint deadline (hours)"), default=48, validators=[MinValueValidator(1), MaxValueValidator(720)]
    )
    after_visit_delay_hours = models.PositiveSmallIntegerField(
        _("send the survey after the visit (hours)"),
        default=2,
        validators=[MinValueValidator(0), MaxValueValidator(72)],
    )

    class Meta:
        verbose_name = _("feedback settings")
        constraints = [models.UniqueConstraint(fields=["organization"], name="feedback_settings_org_uniq")]


class ImprovementTag(TenantModel):
    label = models.CharField(_("label"), max_length=60)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("shown in surveys"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("improvement tag")
        ordering = ["position", "label"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "label"], name="improvement_tag_org_label_uniq")
        ]


class ReviewLink(TenantModel):
    branch = models.ForeignKey(Branch, on_delete=models.CASCADE, related_name="+", db_index=False)
    site = models.CharField(_("site"), max_length=60)
    url = models.URLField(_("link"), max_length=500)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("review link")
        ordering = ["position", "site"]
        indexes = [models.Index(fields=["organization", "branch"], name="review_link_org_branch_idx")]


class SettledDelay(TenantModel):
    """The organisation's own delay for a service group (it replaces ``DEFAULT_SETTLED_DAYS``); 0 days
    turns the settled survey off for the group."""

    category = models.CharField(_("service group"), max_length=20, choices=ServiceCategory.choices)
    days = models.PositiveSmallIntegerField(_("days"), validators=[MaxValueValidator(365)])

    class Meta:
        verbose_name = _("settled-result delay")
        constraints = [
            models.UniqueConstraint(fields=["organization", "category"], name="settled_delay_org_cat_uniq")
        ]
