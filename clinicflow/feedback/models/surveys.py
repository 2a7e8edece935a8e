"""Surveys sent after a visit (and again when the result has settled) and the patient's answer.

A survey is reached by a 128-bit random token; only its SHA-256 is stored, so the table never holds
a usable link. One answer per survey (a unique constraint): a second POST keeps the first."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.booking.models import Appointment, Doctor
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, TenantModel
from clinicflow.patients.models import Patient

__all__ = [
    "CSAT_MAX",
    "CSAT_MIN",
    "DETRACTOR_MAX",
    "PROMOTER_MIN",
    "Survey",
    "SurveyAnswer",
    "SurveyKind",
]

PROMOTER_MIN = 9  # NPS 9-10
DETRACTOR_MAX = 6  # NPS 0-6
CSAT_MIN, CSAT_MAX = 1, 5


class SurveyKind(models.TextChoices):
    AFTER_VISIT = "after_visit", _("After the visit")
    SETTLED = "settled", _("Settled result")


class Survey(TenantModel):
    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", db_index=False)
    doctor = models.ForeignKey(Doctor, on_delete=models.PROTECT, related_name="+", db_index=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", db_index=False)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=12, choices=SurveyKind.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    language = models.CharField(_("language"), max_length=10, default="en")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("survey")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "appointment", "kind"], name="survey_org_appt_kind_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "patient", "created_at"], name="survey_org_patient_idx"),
            models.Index(fields=["organization", "created_at"], name="survey_org_created_idx"),
        ]

    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()


class SurveyAnswer(TenantModel):
    """The patient's answer. Doctor, branch, service and the consultant (the doctor of the patient's
    consultation) are copied from the survey and the consultation at answer time, as is the
    expectation recorded there, so the reports read one table."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", db_index=False)
    doctor = models.ForeignKey(Doctor, on_delete=models.PROTECT, related_name="+", db_index=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+", db_index=False)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    consultant = models.ForeignKey(
        Doctor, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    nps = models.PositiveSmallIntegerField(
        _("how likely to recommend us (0-10)"), validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    csat = models.PositiveSmallIntegerField(
        _("satisfaction (1-5)"), validators=[MinValueValidator(CSAT_MIN), MaxValueValidator(CSAT_MAX)]
    )
    result = models.PositiveSmallIntegerField(
        _("result against expectation (0-10)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
    )
    expectation = models.PositiveSmallIntegerField(
        _("expectation at the consultation"), null=True, blank=True
    )
    tags = models.JSONField(_("what could be better"), default=list, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("survey answer")
        ordering = ["-answered_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "survey"], name="answer_org_survey_uniq")
        ]
        indexes = [
            models.Index(fields=["organization", "answered_at"], name="answer_org_at_idx"),
            models.Index(fields=["organization", "doctor", "answered_at"], name="answer_org_doctor_idx"),
            models.Index(fields=["organization", "patient", "answered_at"], name="answer_org_patient_idx"),
        ]
