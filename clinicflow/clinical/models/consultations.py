"""Clinical records: consultations (with the patient's expectation) and the quotes written from them.

A consultation template belongs to a service group (a catalogue ``ServiceCategory``); each edit by a
manager writes a new ``ConsultationTemplateVersion`` and a consultation keeps the version it was
answered on. A quote's lines carry their own prices (taken from the catalogue on the quote's date), so
a later price change never alters a quote already written."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.booking.models import Appointment, Doctor
from clinicflow.catalogue.models import Service, ServiceCategory
from clinicflow.core.models import Branch, TenantModel, staff_ref
from clinicflow.patients.models import Patient

__all__ = [
    "Consultation",
    "ConsultationOutcome",
    "ConsultationTemplate",
    "ConsultationTemplateVersion",
    "DiscountKind",
    "LineKind",
    "Quote",
    "QuoteLine",
    "QuoteStatus",
]

EXPECTATION_MIN, EXPECTATION_MAX = 0, 10


class ConsultationOutcome(models.TextChoices):
    OPEN = "", _("Not decided yet")
    BOOKED = "booked", _("Booked")
    THINKING = "thinking", _("Thinking it over")
    DECLINED = "declined", _("Declined")


class ConsultationTemplate(TenantModel):
    """The consultation form of one service group; its content lives in its versions."""

    category = models.CharField(_("service group"), max_length=20, choices=ServiceCategory.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("consultation template")
        constraints = [
            models.UniqueConstraint(fields=["organization", "category"], name="consult_tpl_org_cat_uniq")
        ]


class ConsultationTemplateVersion(TenantModel):
    """One edit of a template (never changed afterwards): the contraindications checklist, the risks
    and alternatives to discuss, and extra questions."""

    template = models.ForeignKey(
        ConsultationTemplate, on_delete=models.CASCADE, related_name="versions", db_index=False
    )
    number = models.PositiveIntegerField(_("version"))
    contraindications = models.JSONField(_("contraindications checklist"), default=list)
    risks = models.JSONField(_("risks to discuss"), default=list)
    alternatives = models.JSONField(_("alternatives to discuss"), default=list)
    questions = models.JSONField(_("questions"), default=list)
    created_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("consultation template version")
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "template", "number"], name="consult_tplver_org_num_uniq"
            )
        ]


class Consultation(TenantModel):
    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", db_index=False)
    doctor = models.ForeignKey(Doctor, on_delete=models.PROTECT, related_name="+", db_index=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", db_index=False)
    category = models.CharField(_("service group"), max_length=20, choices=ServiceCategory.choices)
    template_version = models.ForeignKey(
        ConsultationTemplateVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    concerns = models.TextField(_("concerns, in the patient's words"), blank=True)
    areas = models.TextField(_("areas"), blank=True)
    goals = models.TextField(_("goals"), blank=True)
    contraindications = models.JSONField(_("contraindications answers"), default=dict, blank=True)
    answers = models.JSONField(_("answers to the template's questions"), default=dict, blank=True)
    risks_discussed = models.TextField(_("risks discussed"), blank=True)
    alternatives_discussed = models.TextField(_("alternatives discussed"), blank=True)
    recovery_timeline = models.TextField(_("recovery timeline explained"), blank=True)
    result_visible = models.CharField(_("when the final result becomes visible"), max_length=200, blank=True)
    expectation = models.PositiveSmallIntegerField(
        _("expectation (0-10)"),
        validators=[MinValueValidator(EXPECTATION_MIN), MaxValueValidator(EXPECTATION_MAX)],
    )
    expectation_words = models.TextField(_("expectation in words"), blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=ConsultationOutcome.choices, default="", blank=True
    )
    outcome_reason = models.CharField(_("reason"), max_length=300, blank=True)
    recorded_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("consultation")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "appointment"], name="consult_org_appt_uniq")
        ]
        indexes = [
            models.Index(fields=["organization", "patient", "created_at"], name="consult_org_patient_idx"),
            models.Index(fields=["organization", "doctor", "created_at"], name="consult_org_doctor_idx"),
        ]


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")


class LineKind(models.TextChoices):
    PROCEDURE = "procedure", _("Procedure")
    DRUG = "drug", _("Drug")
    ANAESTHESIA = "anaesthesia", _("Anaesthesia")
    CONSUMABLE = "consumable", _("Consumable")
    FOLLOW_UP = "follow_up", _("Follow-up visit")


class DiscountKind(models.TextChoices):
    NONE = "", _("No discount")
    PERCENT = "percent", _("Percent")
    AMOUNT = "amount", _("Amount")


class Quote(TenantModel):
    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, related_name="quotes", db_index=False
    )
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", db_index=False)
    doctor = models.ForeignKey(Doctor, on_delete=models.PROTECT, related_name="+", db_index=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", db_index=False)
    priced_on = models.DateField(_("prices of"))
    valid_until = models.DateField(_("valid until"))
    currency = models.CharField(_("currency"), max_length=3)
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=10, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT
    )
    note = models.TextField(_("note"), blank=True)
    created_by = staff_ref()
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("quote")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "consultation"], name="quote_org_consult_idx"),
            models.Index(fields=["organization", "doctor", "created_at"], name="quote_org_doctor_idx"),
        ]


class QuoteLine(TenantModel):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines", db_index=False)
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(_("kind"), max_length=12, choices=LineKind.choices)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    description = models.CharField(_("description"), max_length=300, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    quantity = models.DecimalField(_("quantity"), max_digits=9, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    discount_kind = models.CharField(
        _("discount"), max_length=8, choices=DiscountKind.choices, default="", blank=True
    )
    discount_value = models.DecimalField(_("discount value"), max_digits=12, decimal_places=2, default=0)
    discount_reason = models.CharField(_("discount reason"), max_length=200, blank=True)
    total = models.DecimalField(_("line total"), max_digits=12, decimal_places=2)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        verbose_name = _("quote line")
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "quote", "position"], name="quoteline_org_pos_uniq"
            )
        ]
