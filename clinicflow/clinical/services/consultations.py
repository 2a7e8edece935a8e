"""Writes of consultations and their templates: a new template version per edit, a consultation
recorded (and answered again) on one appointment, validated field by field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.catalogue.models import ServiceCategory
from clinicflow.clinical.models.consultations import (
    EXPECTATION_MAX,
    EXPECTATION_MIN,
    Consultation,
    ConsultationOutcome,
    ConsultationTemplate,
    ConsultationTemplateVersion,
)
from clinicflow.clinical.selectors import consultations as selectors
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed, require_choice
from clinicflow.core.models import AuditAction, Organization

MAX_ITEMS = 60
MAX_ITEM = 300
TEXT_LIMIT = 5000
TEXT_FIELDS = (
    "concerns",
    "areas",
    "goals",
    "risks_discussed",
    "alternatives_discussed",
    "recovery_timeline",
    "expectation_words",
)


def _items(name: str, values: Sequence[str]) -> list[str]:
    """A checklist: trimmed, non-empty, unique, each at most MAX_ITEM characters."""
    out: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise ValidationFailed.field(name, "each item must be text")
        text = " ".join(value.split())
        if len(text) > MAX_ITEM:
            raise ValidationFailed.field(name, f"an item is longer than {MAX_ITEM} characters")
        if text and text not in out:
            out.append(text)
    if len(out) > MAX_ITEMS:
        raise ValidationFailed.field(name, f"at most {MAX_ITEMS} items")
    return out


@transaction.atomic
def template_version_create(
    *,
    org: Organization,
    actor: User | None,
    category: str,
    contraindications: Sequence[str],
    risks: Sequence[str] = (),
    alternatives: Sequence[str] = (),
    questions: Sequence[str] = (),
    request: HttpRequest | None = None,
) -> ConsultationTemplateVersion:
    """Save the service group's template as a new version; consultations answered on an older version
    keep it."""
    require_choice("category", category, ServiceCategory.values)
    template, _ = ConsultationTemplate.objects.get_or_create(organization=org, category=category)
    # lock the template so two editors cannot write the same version number
    ConsultationTemplate.objects.for_org(org).select_for_update().filter(pk=template.pk).first()
    last = selectors.template_current(org=org, category=category)
    version = ConsultationTemplateVersion.objects.create(
        organization=org,
        template=template,
        number=(last.number + 1) if last else 1,
        contraindications=_items("contraindications", contraindications),
        risks=_items("risks", risks),
        alternatives=_items("alternatives", alternatives),
        questions=_items("questions", questions),
        created_by=actor,
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="consultation_template",
        object_id=version.pk,
        request=request,
    )
    return version


def expectation_value(value: object) -> int:
    """The expectation as an integer 0-10; ValidationFailed naming ``expectation`` otherwise."""
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationFailed.field("expectation", "required: a whole number from 0 to 10")
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise ValidationFailed.field("expectation", "must be a whole number from 0 to 10") from exc
    if not EXPECTATION_MIN <= number <= EXPECTATION_MAX:
        raise ValidationFailed.field("expectation", "must be from 0 to 10")
    return number


def _text(data: Mapping[str, Any], name: str, limit: int = TEXT_LIMIT) -> str:
    value = data.get(name) or ""
    if not isinstance(value, str):
        raise ValidationFailed.field(name, "must be text")
    value = value.strip()
    if len(value) > limit:
        raise ValidationFailed.field(name, f"at most {limit} characters")
    return value


def _answers(name: str, value: object, allowed: Sequence[str]) -> dict[str, Any]:
    """Answers keyed by the version's items: unknown items are refused (they were never asked)."""
    if value in (None, ""):
        return {}
    if not isinstance(value, Mapping):
        raise ValidationFailed.field(name, "must map each item to its answer")
    unknown = [str(k) for k in value if k not in allowed]
    if unknown:
        raise ValidationFailed.field(name, f"not on the template: {', '.join(unknown[:3])}")
    out: dict[str, Any] = {}
    for key, answer in value.items():
        if isinstance(answer, bool):
            out[key] = answer
        elif isinstance(answer, str) and len(answer) <= MAX_ITEM:
            out[key] = answer.strip()
        else:
            raise ValidationFailed.field(name, f"the answer to {key!r} must be yes/no or a short text")
    return out


def _check_appointment(appointment: Appointment) -> None:
    service = appointment.service
    if service.category != ServiceCategory.CONSULTATION and not service.is_first_visit:
        raise ValidationFailed.field(
            "appointment", "not an appointment of a consultation or first-visit service"
        )
    if appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        raise ValidationFailed.field("appointment", "the appointment was cancelled or missed")


@transaction.atomic
def consultation_record(
    *,
    org: Organization,
    actor: User | None,
    appointment: Appointment,
    data: Mapping[str, Any],
    request: HttpRequest | None = None,
) -> Consultation:
    """Record the consultation of ``appointment``, or answer it again (one per appointment). The
    template version is fixed when the consultation is first recorded. ``data``: the text fields,
    ``category`` (service group, default the appointment's), ``contraindications`` and ``answers``
    (item -> answer), ``expectation`` (0-10), ``outcome`` and ``outcome_reason`` (required when
    declined). Raises ValidationFailed naming the field."""
    if appointment.organization_id != org.pk:
        raise ValidationFailed.field("appointment", "belongs to another organisation")
    _check_appointment(appointment)
    existing = Consultation.objects.for_org(org).select_for_update().filter(appointment=appointment).first()
    consultation = existing or Consultation(
        organization=org,
        appointment=appointment,
        patient_id=appointment.patient_id,
        doctor_id=appointment.doctor_id,
        branch_id=appointment.branch_id,
        recorded_by=actor,
    )
    if existing is None:
        category = str(data.get("category") or appointment.service.category)
        require_choice("category", category, ServiceCategory.values)
        consultation.category = category
        consultation.template_version = selectors.template_current(org=org, category=category)
    version = consultation.template_version
    for name in TEXT_FIELDS:
        setattr(consultation, name, _text(data, name))
    consultation.result_visible = _text(data, "result_visible", 200)
    consultation.expectation = expectation_value(data.get("expectation"))
    consultation.contraindications = _answers(
        "contraindications", data.get("contraindications"), version.contraindications if version else []
    )
    consultation.answers = _answers("answers", data.get("answers"), version.questions if version else [])
    outcome = str(data.get("outcome") or "")
    require_choice("outcome", outcome, ConsultationOutcome.values)
    reason = _text(data, "outcome_reason", 300)
    if outcome == ConsultationOutcome.DECLINED and not reason:
        raise ValidationFailed.field("outcome_reason", "required when the patient declined")
    consultation.outcome, consultation.outcome_reason = outcome, reason
    consultation.updated_at = timezone.now()
    consultation.save()
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE if existing else AuditAction.CREATE,
        object_type="consultation",
        object_id=consultation.pk,
        fields=[*TEXT_FIELDS, "expectation", "outcome"],
        request=request,
    )
    return consultation
