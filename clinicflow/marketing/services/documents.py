"""Writes of product documents: save a part (owner, status, text), publish a version, render the PDF.

Publishing needs every one of the seven parts written and reviewed; it marks them published and stores
their text as the next version number. A part edited after that goes back to draft: the published
version stays as it was until the next publication."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from clinicflow.catalogue.models import Product
from clinicflow.clinical.pdf import Document, render
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed, require_choice
from clinicflow.core.models import AuditAction, Organization
from clinicflow.marketing.models.documents import (
    Department,
    DocumentPart,
    PartStatus,
    ProductDocumentPart,
    ProductDocumentVersion,
)
from clinicflow.marketing.selectors import documents as selectors


@transaction.atomic
def part_save(
    *,
    org: Organization,
    actor: AbstractBaseUser | None,
    product: Product,
    part: str,
    body: str,
    owner: str = "",
    status: str = PartStatus.DRAFT,
) -> ProductDocumentPart:
    """Write one part. ``status`` draft or reviewed (publishing is ``document_publish``)."""
    if product.organization_id != org.pk:
        raise ValidationFailed.field("product", "unknown product")
    require_choice("part", part, DocumentPart.values)
    require_choice("status", status, [PartStatus.DRAFT, PartStatus.REVIEWED])
    owner = owner or selectors.default_owner(part)
    require_choice("owner", owner, Department.values)
    if len(body) > 20000:
        raise ValidationFailed.field("body", "at most 20000 characters")
    row = selectors.part_get(org=org, product=product, part=part, lock=True)
    if row is None:
        row = ProductDocumentPart(organization=org, product=product, part=part)
    row.owner, row.status, row.body, row.updated_at = owner, status, body.strip(), timezone.now()
    row.save()
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="product_document",
        object_id=product.pk,
        fields=[part, "owner", "status"],
    )
    return row


@transaction.atomic
def document_publish(
    *, org: Organization, actor: AbstractBaseUser | None, product: Product
) -> ProductDocumentVersion:
    """Publish the document as its next version; every part must be written and reviewed."""
    if product.organization_id != org.pk:
        raise ValidationFailed.field("product", "unknown product")
    parts = {p.part: p for p in selectors.parts(org=org, product=product, lock=True)}
    for key in DocumentPart.values:
        row = parts.get(key)
        if row is None or not row.body or row.status == PartStatus.DRAFT:
            raise ValidationFailed.field(key, "every part must be written and reviewed before publishing")
    number = selectors.last_version_number(org=org, product=product) + 1
    version = ProductDocumentVersion.objects.create(
        organization=org,
        product=product,
        number=number,
        parts=[{"part": k, "owner": parts[k].owner, "body": parts[k].body} for k in DocumentPart.values],
        published_by=getattr(actor, "pk", None),
    )
    ProductDocumentPart.objects.for_org(org).filter(product=product).update(status=PartStatus.PUBLISHED)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="product_document_version",
        object_id=version.pk,
        fields=["number"],
    )
    return version


def document_pdf(*, version: ProductDocumentVersion, product: Product, language: str) -> bytes:
    """The printable PDF of a published version (DejaVu or the CJK font, as clinical documents)."""
    labels = dict(DocumentPart.choices)
    owners = dict(Department.choices)
    with translation.override(language):
        paragraphs = [
            f"{labels[p['part']]} ({owners.get(p['owner'], p['owner'])})\n{p['body']}" for p in version.parts
        ]
        subtitle = [
            _("Version %(n)s, published %(day)s") % {"n": version.number, "day": version.published_at.date()},
            f"{product.price} {product.currency}",
        ]
        doc = Document(title=product.name, language=language, subtitle_lines=subtitle, paragraphs=paragraphs)
    return render(doc)
