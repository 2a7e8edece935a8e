"""The owner's alerts (issue #17): the thresholds the owner sets (``AlertRule``), the alerts the worker's
daily check found (``OwnerAlert``: one per metric, subject, scope and period, never twice) and who gets
them by e-mail (``AlertSubscription``: owners and managers who opted in). ``owner.alerts`` defines the
metrics and the checks; ``owner.alerts_services`` writes these rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import Branch, TenantModel


class AlertState(models.TextChoices):
    NEW = "new", _("New")
    SEEN = "seen", _("Seen")
    DISMISSED = "dismissed", _("Dismissed")


class AlertSource(models.TextChoices):
    THRESHOLD = "threshold", _("Below the owner's threshold")
    RANGE = "range", _("Outside its normal range")


class AlertRule(TenantModel):
    """A threshold the owner set on one metric (``owner.alerts.METRICS``), for a branch or the chain:
    an alert when the metric over the last ``window_days`` is on the wrong side of ``threshold``
    (percent for shares, points for NPS)."""

    metric = models.CharField(_("metric"), max_length=30)
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    threshold = models.DecimalField(_("threshold"), max_digits=7, decimal_places=2)
    window_days = models.PositiveSmallIntegerField(_("days"), default=14)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["metric", "created_at"]
        indexes = [
            models.Index(fields=["organization", "metric", "branch"], name="alertrule_org_metric_idx"),
        ]


class OwnerAlert(TenantModel):
    """One finding of the daily check: ``metric`` of ``subject`` (an administrator's or doctor's id, a
    funnel step, a branch; empty for the whole scope) over ``period_start``..``period_end`` was
    ``value`` against ``baseline`` (its normal level) or ``threshold`` (the owner's). ``scope``: the
    branch's id or empty for the chain; with the metric, subject and period it is unique."""

    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    scope = models.CharField(max_length=40, blank=True)
    metric = models.CharField(_("metric"), max_length=30)
    subject = models.CharField(max_length=64, blank=True)
    subject_label = models.CharField(_("subject"), max_length=200, blank=True)
    source = models.CharField(max_length=12, choices=AlertSource.choices)
    period_start = models.DateField()
    period_end = models.DateField()
    value = models.DecimalField(_("value"), max_digits=9, decimal_places=2)
    baseline = models.DecimalField(_("baseline"), max_digits=9, decimal_places=2, null=True, blank=True)
    threshold = models.DecimalField(_("threshold"), max_digits=9, decimal_places=2, null=True, blank=True)
    count = models.IntegerField(default=0)  # what the value is measured on (calls, answers, patients)
    state = models.CharField(_("state"), max_length=10, choices=AlertState.choices, default=AlertState.NEW)
    created_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "metric", "scope", "subject", "period_start", "period_end"],
                name="owneralert_org_metric_period_uniq",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "state", "created_at"], name="owneralert_org_state_idx"),
            models.Index(fields=["organization", "branch"], name="owneralert_org_branch_idx"),
        ]


class AlertSubscription(TenantModel):
    """An owner or manager who opted in to the alerts by e-mail."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="alertsub_org_user_uniq"),
        ]
