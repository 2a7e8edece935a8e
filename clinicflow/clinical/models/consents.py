"""Clinical records: versioned e-consent.

A ``ConsentTemplate`` belongs to one service (or, when it has no service, to every service of a
category). Its text lives in ``ConsentTemplateVersion`` rows, one series per language: an edit adds
a version with the next number, an old version is never changed. A ``SignedConsent`` names the exact
version shown, keeps the text as rendered for the patient and its SHA-256 (see ``text_digest``), the
signer's typed name and/or drawn signature (a re-encoded PNG, kept in the row: it is small), the
time, IP and user agent, and the staff user who presented the tablet. Versions and signatures are
append-only: the ORM refuses to change or delete them, and ``APPEND_ONLY_SQL`` (for the lead's
migration) makes PostgreSQL refuse it too.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.catalogue.models import Service, ServiceCategory
from clinicflow.core.models import AppendOnlyTenantManager, TenantModel, staff_ref
from clinicflow.patients.models import ConsentPurpose, Patient

__all__ = [
    "APPEND_ONLY_SQL",
    "ConsentTemplate",
    "ConsentTemplateVersion",
    "SignedConsent",
    "normalise_text",
    "text_digest",
]


def normalise_text(text: str) -> str:
    """The form of a consent text that is hashed: Unicode NFC, every run of whitespace (spaces, tabs,
    line breaks) as one space, no leading or trailing space. The PDF's line wrapping and the page's
    paragraphs then hash the same as the stored text."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def text_digest(text: str) -> str:
    """SHA-256 (hex) of the UTF-8 bytes of ``normalise_text(text)``."""
    return hashlib.sha256(normalise_text(text).encode()).hexdigest()


class ConsentTemplate(TenantModel):
    """A consent form for one service, or for every service of ``service_category`` (no service)."""

    name = models.CharField(_("name"), max_length=200)
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    service_category = models.CharField(
        _("service category"), max_length=20, choices=ServiceCategory.choices, blank=True
    )
    purpose = models.CharField(
        _("purpose"), max_length=30, choices=ConsentPurpose.choices, default=ConsentPurpose.TREATMENT
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = staff_ref()

    class Meta:
        verbose_name = _("consent template")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["organization", "service"], name="ctpl_org_service_idx"),
            models.Index(fields=["organization", "service_category"], name="ctpl_org_category_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(service__isnull=False) | ~models.Q(service_category=""),
                name="ctpl_service_or_category",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class _AppendOnly(TenantModel):
    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{type(self).__name__} is append-only")


class ConsentTemplateVersion(_AppendOnly):
    """One version of a template's text in one language; numbers count up per (template, language)."""

    template = models.ForeignKey(
        ConsentTemplate, on_delete=models.PROTECT, related_name="versions", db_index=False
    )
    language = models.CharField(_("language"), max_length=10)
    number = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), max_length=20_000)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = staff_ref()

    objects: ClassVar[AppendOnlyTenantManager[ConsentTemplateVersion]] = AppendOnlyTenantManager()

    class Meta:
        verbose_name = _("consent template version")
        ordering = ["language", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "template", "language", "number"], name="ctplv_org_tpl_lang_num_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.language}, v{self.number})"


class SignedConsent(_AppendOnly):
    """A patient's signature on the exact version shown. Never changed."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+", db_index=False)
    version = models.ForeignKey(
        ConsentTemplateVersion, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    language = models.CharField(_("language"), max_length=10)
    rendered_text = models.TextField(_("text as shown"))
    text_sha256 = models.CharField(_("SHA-256 of the text"), max_length=64)
    signer_name = models.CharField(_("typed name"), max_length=200, blank=True)
    signature_png = models.BinaryField(_("drawn signature (PNG)"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed at"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    presented_by = staff_ref()

    objects: ClassVar[AppendOnlyTenantManager[SignedConsent]] = AppendOnlyTenantManager()

    class Meta:
        verbose_name = _("signed consent")
        ordering = ["-signed_at"]
        indexes = [
            models.Index(fields=["organization", "patient", "signed_at"], name="sconsent_org_patient_idx"),
            models.Index(fields=["organization", "version"], name="sconsent_org_version_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} · {self.version_id}"


# For the lead's migration (RunSQL, PostgreSQL only): the same function the audit log uses
# (core migration 0002 creates ``clinicflow_append_only()``), on both append-only consent tables.
APPEND_ONLY_SQL = [
    """
DROP TRIGGER IF EXISTS clinical_consenttemplateversion_append_only ON clinical_consenttemplateversion;
CREATE TRIGGER clinical_consenttemplateversion_append_only
    BEFORE UPDATE OR DELETE ON clinical_consenttemplateversion
    FOR EACH ROW EXECUTE FUNCTION clinicflow_append_only();
""",
    """
DROP TRIGGER IF EXISTS clinical_signedconsent_append_only ON clinical_signedconsent;
CREATE TRIGGER clinical_signedconsent_append_only
    BEFORE UPDATE OR DELETE ON clinical_signedconsent
    FOR EACH ROW EXECUTE FUNCTION clinicflow_append_only();
""",
]
APPEND_ONLY_REVERSE_SQL = [
    "DROP TRIGGER IF EXISTS clinical_consenttemplateversion_append_only ON clinical_consenttemplateversion;",
    "DROP TRIGGER IF EXISTS clinical_signedconsent_append_only ON clinical_signedconsent;",
]
