"""The breach register (SECURITY.md PR-05): incidents, their notification deadlines per jurisdiction,
and the snapshots of the patients they affected.

The privacy app will also hold data-subject rights and retention (issue #20)."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clinicflow.core.models import TenantModel, staff_ref


class Jurisdiction(models.TextChoices):
    EU = "EU", _("European Union / EEA (GDPR)")
    RU = "RU", _("Russia (152-FZ)")
    CN = "CN", _("China (PIPL)")


class IncidentStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("incident status", "Open")
    NOTIFIED = "notified", pgettext_lazy("incident status", "Notified")
    CLOSED = "closed", pgettext_lazy("incident status", "Closed")


class DataCategory(models.TextChoices):
    IDENTITY = "identity", _("Names and birth dates")
    CONTACTS = "contacts", _("Phone numbers and e-mail addresses")
    HEALTH = "health", _("Health and clinical data")
    PHOTOS = "photos", _("Photos")
    APPOINTMENTS = "appointments", _("Appointments and visits")
    PAYMENTS = "payments", _("Payments")
    CONSENTS = "consents", _("Consents")
    CREDENTIALS = "credentials", _("Staff credentials")
    OTHER = "other", _("Other")


class Incident(TenantModel):
    """A personal-data breach: what happened, its likely effects, what was done about it."""

    title = models.CharField(_("title"), max_length=200)
    discovered_at = models.DateTimeField(_("discovered at"))
    occurred_from = models.DateTimeField(_("occurred from"), null=True, blank=True)
    occurred_to = models.DateTimeField(_("occurred until"), null=True, blank=True)
    facts = models.TextField(_("facts"), help_text=_("What happened."))
    effects = models.TextField(_("effects"), blank=True, help_text=_("The likely consequences."))
    remedial_actions = models.TextField(_("remedial actions"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.OPEN
    )
    data_categories = models.JSONField(_("categories of data"), default=list, blank=True)
    jurisdictions = models.JSONField(_("jurisdictions"), default=list, blank=True)
    created_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("incident")
        ordering = ["-discovered_at"]
        indexes = [
            models.Index(fields=["organization", "discovered_at"], name="incident_org_discovered_idx"),
            models.Index(fields=["organization", "status"], name="incident_org_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class IncidentDeadline(TenantModel):
    """One notification an incident owes under one jurisdiction, and its "done" record."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+", db_index=False)
    jurisdiction = models.CharField(max_length=2, choices=Jurisdiction.choices)
    kind = models.CharField(max_length=20)
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = staff_ref()
    reference = models.CharField(max_length=200, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "incident", "kind"], name="incident_deadline_kind_uniq"
            )
        ]

    def is_overdue(self, now: dt.datetime) -> bool:
        return self.done_at is None and now > self.due_at


class AffectedSnapshot(TenantModel):
    """The answer to "whom did this user touch in this window", from the audit log, kept with the
    incident as it was when attached."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+", db_index=False)
    subject = staff_ref()
    subject_email = models.CharField(max_length=254)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    patient_count = models.PositiveIntegerField(default=0)
    uncovered_rows = models.PositiveIntegerField(
        default=0, help_text=_("List and export views in the window that name no record.")
    )
    created_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["organization", "incident", "created_at"], name="affected_snap_org_inc_idx")
        ]


class AffectedPatient(TenantModel):
    """One patient of a snapshot. ``patient_id`` is a plain UUID, not a foreign key: the snapshot
    keeps the ids even if a patient is later erased (issue #20)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+", db_index=False)
    snapshot = models.ForeignKey(AffectedSnapshot, on_delete=models.CASCADE, related_name="+", db_index=False)
    patient_id = models.UUIDField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "snapshot", "patient_id"], name="affected_patient_snap_uniq"
            )
        ]
        indexes = [
            models.Index(
                fields=["organization", "incident", "patient_id"], name="affected_patient_org_inc_idx"
            )
        ]


class RequestKind(models.TextChoices):
    EXPORT = "export", _("Access and export")
    CORRECTION = "correction", _("Correction")
    ERASURE = "erasure", _("Erasure")
    RESTRICTION = "restriction", _("Restriction of processing")
    WITHDRAWAL = "withdrawal", _("Withdrawal of consents")


class RequestStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("request status", "Open")
    DONE = "done", pgettext_lazy("request status", "Done")
    REFUSED = "refused", pgettext_lazy("request status", "Refused")


class SubjectRequest(TenantModel):
    """One data-subject request (GDPR Art 15-18, 152-FZ Art 14 and 21, PIPL Art 44-47): when it came,
    when the law wants it answered, when it was, and what was done (``outcome``: for an erasure, which
    records were erased, pseudonymised or held and why). ``patient_id`` is a plain UUID, kept after
    the patient's erasure."""

    patient_id = models.UUIDField()
    kind = models.CharField(_("kind"), max_length=12, choices=RequestKind.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    due_at = models.DateTimeField(_("due at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    handled_by = staff_ref()
    outcome = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["organization", "received_at"], name="subjreq_org_received_idx"),
            models.Index(fields=["organization", "patient_id"], name="subjreq_org_patient_idx"),
        ]

    def is_overdue(self, now: dt.datetime) -> bool:
        return self.completed_at is None and now > self.due_at


class RetentionRun(TenantModel):
    """One run of the retention job over an organisation: what it found past its period and, unless
    a dry run, destroyed or pseudonymised (the destruction act)."""

    started_at = models.DateTimeField(default=timezone.now)
    dry_run = models.BooleanField(default=False)
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["organization", "started_at"], name="retrun_org_started_idx")]
