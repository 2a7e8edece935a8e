"""The product document (seed 002): seven parts per packaged product, each with an owner department and
a status; publishing freezes the parts into a numbered, immutable version."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.catalogue.models import Product
from clinicflow.core.models import TenantModel


class DocumentPart(models.TextChoices):
    DETAILS = "details", _("Details: procedures, drugs, examinations")
    COMPETITORS = "competitors", _("Competitors and who it suits")
    BENEFITS = "benefits", _("Customer benefits")
    RATIONALE = "rationale", _("Clinical rationale")
    CASES = "cases", _("Case stories")
    FAQ = "faq", _("FAQ for the front desk")
    PRICING = "pricing", _("Pricing")


class Department(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    MEDICAL = "medical", _("Medical")
    FRONT_DESK = "front_desk", _("Front desk")
    FINANCE = "finance", _("Finance")
    MANAGEMENT = "management", _("Management")


class PartStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEWED = "reviewed", _("Reviewed")
    PUBLISHED = "published", _("Published")


# The department that owns each part unless the clinic says otherwise.
DEFAULT_OWNER = {
    DocumentPart.DETAILS: Department.MEDICAL,
    DocumentPart.COMPETITORS: Department.MARKETING,
    DocumentPart.BENEFITS: Department.MARKETING,
    DocumentPart.RATIONALE: Department.MEDICAL,
    DocumentPart.CASES: Department.MEDICAL,
    DocumentPart.FAQ: Department.FRONT_DESK,
    DocumentPart.PRICING: Department.FINANCE,
}


class ProductDocumentPart(TenantModel):
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+", db_index=False)
    part = models.CharField(_("part"), max_length=12, choices=DocumentPart.choices)
    owner = models.CharField(_("owner department"), max_length=12, choices=Department.choices)
    status = models.CharField(_("status"), max_length=10, choices=PartStatus.choices, default="draft")
    body = models.TextField(_("text"), max_length=20000, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "product", "part"], name="docpart_uniq")
        ]


class ProductDocumentVersion(TenantModel):
    """A published document: every part's text as it was, never changed afterwards."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+", db_index=False)
    number = models.PositiveIntegerField()
    parts = models.JSONField()  # [{"part", "owner", "body"}] in the order of DocumentPart
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "product", "number"], name="docversion_uniq")
        ]
