"""The outbox: messages to patients (SMS, e-mail), their attachments, per-organisation template
overrides and messaging settings.

A message is written by ``services.message_enqueue`` inside the transaction of the change that
causes it, and delivered later by the worker (``clinicflow worker``). Status flow::

    queued -> sending -> sent
                      -> queued   (temporary failure: retried with exponential back-off)
                      -> failed   (permanent failure or attempts exhausted)
                      -> unknown  (the worker died after handing it to the provider: a human checks)
    queued -> cancelled           (message_cancel, consent withdrawn, no consent at send time,
                                   or claimed after ``not_after``: its purpose has passed)
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.core.models import TenantModel
from clinicflow.patients.models import Patient


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class Kind(models.TextChoices):
    APPOINTMENT_CONFIRMATION = "appointment_confirmation", _("Appointment confirmation")
    APPOINTMENT_CHANGED = "appointment_changed", _("Appointment changed")
    APPOINTMENT_CANCELLED = "appointment_cancelled", _("Appointment cancelled")
    APPOINTMENT_REMINDER = "appointment_reminder", _("Appointment reminder")
    BOOKING_CODE = "booking_code", _("Booking code")
    THANK_YOU = "thank_you", _("Thank you")
    RECALL = "recall", _("Recall")
    SURVEY = "survey", _("Survey")
    MARKETING = "marketing", _("Marketing")
    QUOTE = "quote", _("Quote")
    OWNER_ALERT = "owner_alert", _("Owner alert")  # to staff: the owner's alerts (analytics)


# what a patient whose processing is restricted still receives: the messages of their own care
ESSENTIAL_KINDS = frozenset(
    str(k.value)
    for k in (
        Kind.APPOINTMENT_CONFIRMATION,
        Kind.APPOINTMENT_CHANGED,
        Kind.APPOINTMENT_CANCELLED,
        Kind.APPOINTMENT_REMINDER,
        Kind.BOOKING_CODE,
        Kind.QUOTE,
    )
)


class Purpose(models.TextChoices):
    SERVICE = "service", _("Service")
    MARKETING = "marketing", _("Marketing")


class Status(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    UNKNOWN = "unknown", _("Unknown (check by hand)")


class Message(TenantModel):
    # NULL: a message to an address the visitor typed before any patient is known (a public
    # booking code); it is a service message and never marketing
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="+", db_index=False, null=True, blank=True
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices, default=Purpose.SERVICE)
    language = models.CharField(_("language"), max_length=10)
    to = models.CharField(_("recipient"), max_length=254, help_text=_("E.164 phone or e-mail address"))
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body_text = models.TextField(_("text"))
    body_html = models.TextField(_("HTML"), blank=True)
    context = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(  # noqa: DJ001 -- NULL = no key; unique only among non-NULL keys
        max_length=200,
        null=True,
        blank=True,
        help_text="Unique per organisation while the message is not cancelled (cancelling frees the key).",
    )
    cancelled_key = models.CharField(max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    send_after = models.DateTimeField(_("send after"), default=timezone.now)
    # NULL: no deadline. Set for a message whose purpose passes (a code's expiry, an appointment's
    # start): the worker cancels it instead of sending it when it is claimed after this moment
    not_after = models.DateTimeField(_("not after"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    provider = models.CharField(max_length=40, blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=200, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("message")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "dedupe_key"], name="message_org_dedupe_uniq"),
        ]
        indexes = [
            # the worker: due queued messages (a small partial index)
            models.Index(
                fields=["organization", "send_after"],
                name="message_org_due_idx",
                condition=Q(status="queued"),
            ),
            # the worker: expired leases
            models.Index(
                fields=["organization", "claimed_until"],
                name="message_org_lease_idx",
                condition=Q(status="sending"),
            ),
            models.Index(fields=["organization", "status", "created_at"], name="message_org_status_idx"),
            models.Index(fields=["organization", "patient", "created_at"], name="message_org_patient_idx"),
            models.Index(fields=["organization", "kind", "created_at"], name="message_org_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.channel} {self.status}"

    @property
    def idempotency_key(self) -> str:
        """What the provider sees as the idempotency key, and the SMTP Message-ID's local part."""
        return str(self.pk)


class MessageAttachment(TenantModel):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments", db_index=False)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    content = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["organization", "message"], name="msgattach_org_message_idx")]


class MessageTemplate(TenantModel):
    """A per-organisation override of a built-in template for one kind, channel and language.

    ``subject`` and ``body`` use ``{placeholder}`` substitution (never Django template syntax),
    e.g. ``{service}``, ``{start_local}``; see docs/messaging.md for the placeholders of each kind."""

    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=10)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("text"))
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("message template")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "channel", "language"], name="msgtemplate_org_key_uniq"
            ),
        ]


class MessagingSettings(TenantModel):
    """Messaging settings of one organisation."""

    allow_cross_border = models.BooleanField(
        _("allow cross-border transfer"),
        default=False,
        help_text=_(
            "Allow sending patients' contacts to a provider in another region (RU/CN data residency), "
            "for patients who gave the cross-border consent."
        ),
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="msgsettings_org_uniq")]


class DemoInboxMessage(TenantModel):
    """What the demo channel "sent": the final text of one message, kept for the demo inbox page.

    Only the demo channel (``MESSAGE_DELIVERY=demo_inbox``) writes here, and the production profile
    refuses to start with it: the text holds the one-time code that the outbox never stores readable."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+", db_index=False)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    kind = models.CharField(_("kind"), max_length=40, choices=Kind.choices)
    to = models.CharField(_("recipient"), max_length=254)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body_text = models.TextField(_("text"))
    zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("demo inbox message")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="demoinbox_org_created_idx")]

    def __str__(self) -> str:
        return f"{self.channel} {self.to}"
