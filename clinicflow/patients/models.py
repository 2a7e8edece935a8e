"""Patients, their phones (E.164), consents (append-only events) and stored CLV predictions.

The e-mail, the phone numbers, both notes and the consent evidence are encrypted (``core.fields``);
the e-mail and the phones are found by their blind indexes (``email_index``, ``e164_index``)."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.validators import validate_email
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from clinicflow.core import crypto
from clinicflow.core.fields import BlindIndexedModel, BlindIndexField, BlindIndexManager, EncryptedTextField
from clinicflow.core.models import AppendOnlyTenantManager, Branch, TenantModel, staff_ref


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    UNKNOWN = "U", _("Not stated")


class Source(models.TextChoices):
    SEARCH_ADS = "search_ads", _("Search ads")
    SOCIAL_ADS = "social_ads", _("Social ads")
    ORGANIC = "organic", _("SEO / organic")
    AGGREGATOR = "aggregator", _("Aggregator / marketplace")
    REFERRAL = "referral", _("Referral")
    OFFLINE = "offline", _("Offline / outdoor")
    DIRECT = "direct", _("Direct")
    OTHER = "other", _("Other")


LANGUAGE_CHOICES = [("en", "English"), ("ru", "Русский"), ("zh-hans", "简体中文")]


class Patient(BlindIndexedModel, TenantModel):
    branch = models.ForeignKey(
        Branch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("home branch"),
    )
    last_name = models.CharField(_("last name"), max_length=100)
    first_name = models.CharField(_("first name"), max_length=100)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    email = EncryptedTextField(
        _("e-mail"), blank=True, max_length=254, multiline=False, validators=[validate_email]
    )
    email_index = BlindIndexField(source="email", purpose=crypto.EMAIL)
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=LANGUAGE_CHOICES, default="en"
    )
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.OTHER)
    notes = EncryptedTextField(_("administrative notes"), blank=True)
    clinical_notes = EncryptedTextField(_("clinical notes"), blank=True)
    search_name = models.CharField(max_length=320, editable=False)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    created_by = staff_ref()
    # restriction of processing (GDPR Art 18, 152-FZ Art 21 "blocking"): set and lifted by the privacy
    # rights; while set, marketing audiences leave the patient out and messaging sends only what care
    # needs (appointment messages, codes, quotes)
    restricted_at = models.DateTimeField(_("processing restricted since"), null=True, blank=True)
    restriction_reason = models.CharField(_("reason for the restriction"), max_length=500, blank=True)

    objects: ClassVar[BlindIndexManager[Patient]] = BlindIndexManager()

    class Meta:
        verbose_name = _("patient")
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["organization", "search_name"], name="patient_org_name_idx"),
            models.Index(fields=["organization", "email_index"], name="patient_org_email_bidx"),
            models.Index(fields=["organization", "branch"], name="patient_org_branch_idx"),
            models.Index(fields=["organization", "created_at"], name="patient_org_created_idx"),
            models.Index(fields=["organization", "merged_into"], name="patient_org_merged_idx"),
            # marketing audiences (issue #19): branch, sex and age of the patients a campaign may reach,
            # counted from the index alone
            models.Index(
                fields=["organization", "branch", "sex", "birth_date"],
                name="patient_org_audience_idx",
                condition=models.Q(merged_into__isnull=True, restricted_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def is_restricted(self) -> bool:
        """Processing is restricted: nothing beyond storage and the care itself."""
        return self.restricted_at is not None

    @staticmethod
    def make_search_name(last: str, first: str, middle: str) -> str:
        return " ".join(p for p in (last, first, middle) if p).lower()


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", _("Mobile")
    HOME = "home", pgettext_lazy("phone kind", "Home")
    WORK = "work", _("Work")


class PatientPhone(BlindIndexedModel, TenantModel):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="phones", db_index=False)
    e164 = EncryptedTextField(_("phone"), max_length=20, multiline=False)
    e164_index = BlindIndexField(source="e164", purpose=crypto.PHONE)
    kind = models.CharField(max_length=10, choices=PhoneKind.choices, default=PhoneKind.MOBILE)
    is_primary = models.BooleanField(default=False)

    objects: ClassVar[BlindIndexManager[PatientPhone]] = BlindIndexManager()

    class Meta:
        # the number itself is ciphertext in the table: ids are time-ordered (uuid7), oldest first
        ordering = ["-is_primary", "id"]
        indexes = [
            models.Index(fields=["organization", "e164_index"], name="phone_org_e164_bidx"),
        ]
        # (organization, patient) lookups use the unique constraint's index
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "patient", "e164_index"], name="phone_org_patient_e164_bidx_uniq"
            ),
        ]

    def __str__(self) -> str:
        return str(self.e164)


class ConsentPurpose(models.TextChoices):
    HEALTH_DATA = "health_data", _("Processing of health data")
    TREATMENT = "treatment", _("Treatment")
    MARKETING_SMS = "marketing_sms", _("Marketing by SMS")
    MARKETING_EMAIL = "marketing_email", _("Marketing by e-mail")
    MARKETING_CALLS = "marketing_calls", _("Marketing by phone calls")
    PHOTO_PUBLICATION = "photo_publication", _("Publication of photos")
    CROSS_BORDER = "cross_border", _("Cross-border transfer")


MARKETING_PURPOSE_BY_CHANNEL = {
    "sms": ConsentPurpose.MARKETING_SMS,
    "email": ConsentPurpose.MARKETING_EMAIL,
    "call": ConsentPurpose.MARKETING_CALLS,
}


class ConsentMethod(models.TextChoices):
    WRITTEN = "written", _("Signed on paper")
    ELECTRONIC = "electronic", _("Signed electronically")
    WEB_FORM = "web_form", _("Web form checkbox")
    VERBAL_RECORDED = "verbal_recorded", _("Verbally, on a recorded call")
    SMS_REPLY = "sms_reply", _("Reply to an SMS")


class ConsentEventKind(models.TextChoices):
    GRANTED = "granted", _("Granted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ConsentEvent(TenantModel):
    """One grant or withdrawal of one consent purpose. Append-only: the current state of a purpose is
    its latest event."""

    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="consent_events", db_index=False
    )
    purpose = models.CharField(_("purpose"), max_length=30, choices=ConsentPurpose.choices)
    kind = models.CharField(_("event"), max_length=10, choices=ConsentEventKind.choices)
    method = models.CharField(_("how it was given"), max_length=20, choices=ConsentMethod.choices)
    at = models.DateTimeField(_("time"), default=timezone.now)
    template_version = models.CharField(_("template version"), max_length=40, blank=True)
    text_sha256 = models.CharField(max_length=64, blank=True)
    evidence = EncryptedTextField(_("evidence"), max_length=300, blank=True, multiline=False)
    recorded_by = staff_ref()

    objects: ClassVar[AppendOnlyTenantManager[ConsentEvent]] = AppendOnlyTenantManager()

    class Meta:
        ordering = ["at"]
        indexes = [
            models.Index(fields=["organization", "patient", "purpose", "at"], name="consent_org_patient_idx")
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("consent events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("consent events are append-only")


class PatientPrediction(TenantModel):
    """The lifetime-value engine's latest prediction for a patient (written by analytics)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="predictions", db_index=False)
    p_alive = models.FloatField()
    expected_visits = models.FloatField()
    expected_value = models.DecimalField(max_digits=14, decimal_places=2)
    clv = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    until = models.DateField()
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # the list sorted by a prediction walks these (either way) and stops after a page;
            # the patient breaks ties, so the order needs no sort step
            models.Index(fields=["organization", "clv", "patient"], name="prediction_org_clv_pat_idx"),
            models.Index(fields=["organization", "p_alive", "patient"], name="prediction_org_alive_pat_idx"),
            # the stored predictions' day (``clv.stored.predictions_until``: their latest ``until``)
            models.Index(fields=["organization", "until"], name="prediction_org_until_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "patient"], name="prediction_org_patient_uniq"),
        ]
