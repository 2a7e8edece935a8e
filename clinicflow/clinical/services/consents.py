"""Consent templates (a new version per edit), signing a version, the signed consent's PDF."""

from __future__ import annotations

import base64
import binascii
import io
import warnings

from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone
from PIL import Image, UnidentifiedImageError
from reportlab.platypus import Flowable, Spacer
from reportlab.platypus import Image as PdfImage

from clinicflow.accounts.models import User
from clinicflow.catalogue.models import Service
from clinicflow.clinical.models.consents import (
    ConsentTemplate,
    ConsentTemplateVersion,
    SignedConsent,
    text_digest,
)
from clinicflow.clinical.pdf import Document, render
from clinicflow.core.audit import audit_record, request_meta
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import AuditAction, Organization
from clinicflow.patients.models import ConsentMethod, ConsentPurpose, Patient
from clinicflow.patients.services import consent_record

LANGUAGES = ("en", "ru", "zh-hans")
MAX_SIGNATURE_URL = 300_000  # characters of the data URL
MAX_SIGNATURE_BYTES = 200_000  # decoded PNG
MAX_SIGNATURE_PIXELS = (2000, 1000)  # width, height
PNG_PREFIX = "data:image/png;base64,"


def _clean_language(language: str) -> str:
    language = (language or "").strip().lower()
    if not language or len(language) > 10 or not all(c.isalnum() or c == "-" for c in language):
        raise ValidationFailed.field("language", "a language code such as en, ru or zh-hans")
    return language


def consent_template_create(
    *,
    org: Organization,
    actor: User | None,
    name: str,
    service: Service | None = None,
    service_category: str = "",
    purpose: str = ConsentPurpose.TREATMENT,
    request: HttpRequest | None = None,
) -> ConsentTemplate:
    if service is not None and service.organization_id != org.id:
        raise ValidationFailed.field("service", "not a service of this organisation")
    if service is None and not service_category:
        raise ValidationFailed.field("service", "give a service or a service category")
    if purpose not in ConsentPurpose.values:
        raise ValidationFailed.field("purpose", "not a consent purpose")
    name = " ".join(name.split())[:200]
    if not name:
        raise ValidationFailed.field("name", "required")
    template = ConsentTemplate.objects.create(
        organization=org,
        name=name,
        service=service,
        service_category="" if service else service_category,
        purpose=purpose,
        created_by=actor if actor and actor.pk else None,
    )
    audit_record(
        org=org, actor=actor, action=AuditAction.CREATE, object_type="consent_template",
        object_id=template.pk, request=request,
    )  # fmt: skip
    return template


def consent_version_add(
    *,
    org: Organization,
    actor: User | None,
    template: ConsentTemplate,
    language: str,
    title: str,
    body: str,
    request: HttpRequest | None = None,
) -> ConsentTemplateVersion:
    """A new version of ``template``'s text in ``language`` (the next number); earlier versions stay
    as they were, and their signatures no longer count as the current consent."""
    if template.organization_id != org.id:
        raise ValidationFailed.field("template", "not a template of this organisation")
    language = _clean_language(language)
    title, body = " ".join(title.split())[:200], body.strip()
    if not title:
        raise ValidationFailed.field("title", "required")
    if not body or len(body) > 20_000:
        raise ValidationFailed.field("body", "between 1 and 20000 characters")
    with transaction.atomic():
        # the template row serialises concurrent edits of the same template
        ConsentTemplate.objects.for_org(org).select_for_update().filter(pk=template.pk).first()
        last = (
            ConsentTemplateVersion.objects.for_org(org)
            .filter(template=template, language=language)
            .aggregate(n=Max("number"))["n"]
        )
        version = ConsentTemplateVersion(
            organization=org,
            template=template,
            language=language,
            number=(last or 0) + 1,
            title=title,
            body=body,
            created_by=actor if actor and actor.pk else None,
        )
        version.save(force_insert=True)
        audit_record(
            org=org, actor=actor, action=AuditAction.CREATE, object_type="consent_template_version",
            object_id=version.pk, fields=["title", "body"], request=request,
        )  # fmt: skip
    return version


def rendered_text(version: ConsentTemplateVersion, patient: Patient) -> str:
    """The text the patient is shown and signs: the title, a blank line, the body, with
    ``{patient}`` replaced by the patient's full name."""
    body = version.body.replace("\r\n", "\n").replace("{patient}", patient.full_name)
    return f"{version.title}\n\n{body}".strip()


def signature_png(data_url: str | None) -> bytes | None:
    """The drawn signature (a canvas's ``toDataURL()``) as a re-encoded PNG, or None when absent.
    Refuses (422 naming ``signature``) anything but a PNG data URL of bounded size and pixels."""
    if not data_url:
        return None
    if len(data_url) > MAX_SIGNATURE_URL:
        raise ValidationFailed.field("signature", "the drawing is too large")
    if not data_url.startswith(PNG_PREFIX):
        raise ValidationFailed.field("signature", "must be a PNG data URL (data:image/png;base64,...)")
    try:
        raw = base64.b64decode(data_url[len(PNG_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed.field("signature", "not valid base64") from exc
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise ValidationFailed.field("signature", "the drawing is too large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as probe:
                if probe.format != "PNG":
                    raise ValidationFailed.field("signature", "not a PNG image")
                width, height = probe.size
                if width > MAX_SIGNATURE_PIXELS[0] or height > MAX_SIGNATURE_PIXELS[1] or not width * height:
                    raise ValidationFailed.field("signature", "the drawing has too many pixels")
                probe.load()
                image = probe.convert("RGBA")
    except ValidationFailed:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Warning,
        Image.DecompressionBombError,
    ) as exc:
        raise ValidationFailed.field("signature", "not a PNG image") from exc
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def consent_sign(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    version: ConsentTemplateVersion,
    language: str,
    typed_name: str,
    signature: str | None,
    shown_sha256: str = "",
    request: HttpRequest | None = None,
) -> SignedConsent:
    """Sign the current version ``version`` for ``patient``: the server renders the text itself; a
    version that is no longer current (409) or a language other than the version's (422) is refused.
    ``shown_sha256`` (the page's hash of what it showed) must match when given. A treatment
    consent also records a ``treatment`` consent event on the patient's card."""
    if patient.organization_id != org.id or version.organization_id != org.id:
        raise ValidationFailed("patient or version belongs to another organisation")
    if _clean_language(language) != version.language:
        raise ValidationFailed.field("language", "the version is in another language")
    typed_name = " ".join((typed_name or "").split())[:200]
    png = signature_png(signature)
    if not typed_name and png is None:
        raise ValidationFailed.field("typed_name", "type the name or draw the signature")
    text = rendered_text(version, patient)
    digest = text_digest(text)
    if shown_sha256 and shown_sha256 != digest:
        raise Conflict("the text changed since it was shown: show it again", code="text_changed")
    meta = request_meta(request)
    with transaction.atomic():
        ConsentTemplate.objects.for_org(org).select_for_update().filter(pk=version.template_id).first()
        newest = (
            ConsentTemplateVersion.objects.for_org(org)
            .filter(template_id=version.template_id, language=version.language)
            .aggregate(n=Max("number"))["n"]
        )
        if newest != version.number or not version.template.is_active:
            raise Conflict("this version is no longer the current one", code="version_not_current")
        signed = SignedConsent(
            organization=org,
            patient=patient,
            version=version,
            language=version.language,
            rendered_text=text,
            text_sha256=digest,
            signer_name=typed_name,
            signature_png=png,
            signed_at=timezone.now(),
            ip=meta.ip,
            user_agent=meta.user_agent,
            presented_by=actor if actor and actor.pk else None,
        )
        signed.save(force_insert=True)
        audit_record(
            org=org, actor=actor, action=AuditAction.CREATE, object_type="signed_consent",
            object_id=signed.pk, fields=["version", "text_sha256", "signature"], request=request,
        )  # fmt: skip
        if version.template.purpose == ConsentPurpose.TREATMENT:
            consent_record(
                org=org,
                actor=actor,
                patient=patient,
                purpose=ConsentPurpose.TREATMENT,
                granted=True,
                method=ConsentMethod.ELECTRONIC,
                evidence=f"signed consent {signed.pk}",
                template_version=str(version.pk),
                template_text=" ".join(text.split()),
                at=signed.signed_at,
                request=request,
            )
    return signed


def signed_consent_pdf(signed: SignedConsent, *, labels: dict[str, str], when: str) -> bytes:
    """The PDF of a signed consent: the text exactly as signed (title, then the body), then the
    signer, the time, the IP, the SHA-256 and the drawn signature. ``labels`` are the translated
    captions (``signed_by``, ``signed_at``, ``ip``, ``sha256``, ``presented_by``); ``when`` the
    formatted time."""
    text = signed.rendered_text
    title, _sep, body = text.partition("\n\n")
    closing = [
        f"{labels['signed_by']}: {signed.signer_name or '—'}",
        f"{labels['signed_at']}: {when}",
        f"{labels['ip']}: {signed.ip or '—'}",
        f"{labels['sha256']}: {signed.text_sha256}",
    ]
    extra: list[Flowable] = []
    if signed.signature_png:
        with Image.open(io.BytesIO(bytes(signed.signature_png))) as img:
            width, height = img.size
        scale = min(1.0, 220 / width, 90 / height)
        extra = [
            Spacer(1, 8),
            PdfImage(io.BytesIO(bytes(signed.signature_png)), width=width * scale, height=height * scale),
        ]
    doc = Document(
        title=title,
        language=signed.language,
        paragraphs=[p for p in body.split("\n\n") if p.strip()],
        closing=closing,
        extra=extra,
    )
    return render(doc)
