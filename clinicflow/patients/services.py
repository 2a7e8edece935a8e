"""Writes of patients: create, update, merge, consents. Each is atomic and audited."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.phones import InvalidPhone, normalize
from clinicflow.patients.models import (
    LANGUAGE_CHOICES,
    ConsentEvent,
    ConsentEventKind,
    ConsentMethod,
    ConsentPurpose,
    Patient,
    PatientPhone,
    Sex,
    Source,
)
from clinicflow.patients.selectors import default_region

if TYPE_CHECKING:
    from clinicflow.accounts.models import User

CLINICAL_FIELDS = frozenset({"clinical_notes"})
EDITABLE_FIELDS = (
    "last_name",
    "first_name",
    "middle_name",
    "sex",
    "birth_date",
    "email",
    "preferred_language",
    "source",
    "notes",
    "clinical_notes",
    "branch",
)
MAX_LEN = {"last_name": 100, "first_name": 100, "middle_name": 100, "notes": 10_000, "clinical_notes": 50_000}


@dataclass
class PatientData:
    """Validated input for create/update. ``None`` means "not given" on update."""

    last_name: str | None = None
    first_name: str | None = None
    middle_name: str | None = None
    sex: str | None = None
    birth_date: dt.date | None = None
    email: str | None = None
    preferred_language: str | None = None
    source: str | None = None
    notes: str | None = None
    clinical_notes: str | None = None
    branch: Branch | None = None
    phones: list[str] | None = None
    given: set[str] = field(default_factory=set)


def _clean(
    data: PatientData, *, org: Organization, creating: bool
) -> tuple[dict[str, object], list[str] | None]:
    errors: dict[str, list[str]] = {}
    values: dict[str, object] = {}
    for name in EDITABLE_FIELDS:
        value = getattr(data, name)
        if value is None and name not in data.given:
            continue
        if isinstance(value, str):
            value = value.strip()
            if name in MAX_LEN and len(value) > MAX_LEN[name]:
                errors.setdefault(name, []).append(f"at most {MAX_LEN[name]} characters")
        values[name] = "" if value is None and name not in ("birth_date", "branch") else value
    for required in ("last_name", "first_name"):
        if (creating or required in values) and not values.get(required):
            errors.setdefault(required, []).append("is required")
    if values.get("sex") and values["sex"] not in Sex.values:
        errors.setdefault("sex", []).append(f"must be one of {', '.join(Sex.values)}")
    if values.get("source") and values["source"] not in Source.values:
        errors.setdefault("source", []).append(f"must be one of {', '.join(Source.values)}")
    languages = [code for code, _ in LANGUAGE_CHOICES]
    if values.get("preferred_language") and values["preferred_language"] not in languages:
        errors.setdefault("preferred_language", []).append(f"must be one of {', '.join(languages)}")
    if values.get("email"):
        email = str(values["email"]).lower()
        try:
            validate_email(email)
        except DjangoValidationError:
            errors.setdefault("email", []).append("is not a valid e-mail address")
        values["email"] = email
    birth = values.get("birth_date")
    if isinstance(birth, dt.date):
        today = timezone.localdate()
        if birth > today:
            errors.setdefault("birth_date", []).append("is in the future")
        elif birth.year < 1900:
            errors.setdefault("birth_date", []).append("is before 1900")
    branch = values.get("branch")
    if isinstance(branch, Branch) and branch.organization_id != org.id:
        errors.setdefault("branch", []).append("unknown branch")
    phones: list[str] | None = None
    if data.phones is not None:
        region = default_region(org, branch if isinstance(branch, Branch) else None)
        phones = []
        for index, raw in enumerate(data.phones):
            if not str(raw).strip():
                continue
            try:
                e164 = normalize(str(raw), region)
            except InvalidPhone as exc:
                errors.setdefault(f"phones[{index}]" if len(data.phones) > 1 else "phones", []).append(
                    f"{str(raw)[:40]!r} {exc}"
                )
                continue
            if e164 not in phones:
                phones.append(e164)
        if len(phones) > 5:
            errors.setdefault("phones", []).append("at most 5 phone numbers")
    if errors:
        first = next(iter(errors))
        raise ValidationFailed(f"{first}: {errors[first][0]}", fields=errors)
    return values, phones


def _replace_phones(*, org: Organization, patient: Patient, phones: Sequence[str]) -> None:
    PatientPhone.objects.for_org(org).filter(patient=patient).exclude(e164__in=phones).delete()
    existing = set(PatientPhone.objects.for_org(org).filter(patient=patient).values_list("e164", flat=True))
    PatientPhone.objects.bulk_create(
        PatientPhone(organization=org, patient=patient, e164=e164, is_primary=(i == 0))
        for i, e164 in enumerate(phones)
        if e164 not in existing
    )
    for i, e164 in enumerate(phones):
        PatientPhone.objects.for_org(org).filter(patient=patient, e164=e164).update(is_primary=(i == 0))


@transaction.atomic
def patient_create(
    *, org: Organization, actor: User | None, data: PatientData, request: HttpRequest | None = None
) -> Patient:
    values, phones = _clean(data, org=org, creating=True)
    patient = Patient(organization=org, created_by=actor if actor and actor.pk else None, **values)  # type: ignore[misc]
    patient.search_name = Patient.make_search_name(patient.last_name, patient.first_name, patient.middle_name)
    patient.save(force_insert=True)
    if phones:
        _replace_phones(org=org, patient=patient, phones=phones)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="patient",
        object_id=patient.pk,
        fields=[*values.keys(), *(["phones"] if phones else [])],
        request=request,
    )
    return patient


@transaction.atomic
def patient_update(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    data: PatientData,
    request: HttpRequest | None = None,
) -> Patient:
    if patient.organization_id != org.id:
        raise ValidationFailed("patient belongs to another organisation")
    values, phones = _clean(data, org=org, creating=False)
    changed = [name for name, value in values.items() if getattr(patient, name) != value]
    for name in changed:
        setattr(patient, name, values[name])
    if phones is not None:
        current = list(patient.phones.values_list("e164", flat=True))
        if current != phones:
            _replace_phones(org=org, patient=patient, phones=phones)
            changed.append("phones")
    if changed:
        patient.search_name = Patient.make_search_name(
            patient.last_name, patient.first_name, patient.middle_name
        )
        patient.updated_at = timezone.now()
        patient.save()
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="patient",
        object_id=patient.pk,
        fields=changed,
        request=request,
    )
    return patient


def _patient_foreign_keys() -> list[tuple[type[models.Model], str]]:
    """Every (model, field) in any app that points at Patient, so a merge moves all of them."""
    from django.apps import apps

    found: list[tuple[type[models.Model], str]] = []
    for model in apps.get_models():
        for f in model._meta.get_fields():
            if isinstance(f, models.ForeignKey) and f.related_model is Patient and model is not Patient:
                found.append((model, f.name))
    return found


@transaction.atomic
def patient_merge(
    *,
    org: Organization,
    actor: User | None,
    keep: Patient,
    merge: Patient,
    request: HttpRequest | None = None,
) -> Patient:
    """Move everything of ``merge`` onto ``keep``; ``merge`` stays as a tombstone pointing at ``keep``."""
    if keep.pk == merge.pk:
        raise Conflict("cannot merge a patient into itself")
    if keep.organization_id != org.id or merge.organization_id != org.id:
        raise ValidationFailed("patient belongs to another organisation")
    if merge.merged_into_id is not None or keep.merged_into_id is not None:
        raise Conflict("one of the patients is already merged")
    keep_phones = set(PatientPhone.objects.for_org(org).filter(patient=keep).values_list("e164", flat=True))
    PatientPhone.objects.for_org(org).filter(patient=merge, e164__in=keep_phones).delete()
    PatientPhone.objects.for_org(org).filter(patient=merge).update(patient=keep, is_primary=False)
    moved = ["phones"]
    for model, fname in _patient_foreign_keys():
        if model is PatientPhone:
            continue
        manager = model._default_manager
        qs = manager.filter(organization=org, **{fname: merge})
        if model is ConsentEvent:  # type: ignore[comparison-overlap]
            # consent events are append-only: re-record them on the kept patient
            for event in list(ConsentEvent.objects.filter(organization=org, patient=merge)):
                ConsentEvent(
                    organization=org,
                    patient=keep,
                    purpose=event.purpose,
                    kind=event.kind,
                    method=event.method,
                    at=event.at,
                    template_version=event.template_version,
                    text_sha256=event.text_sha256,
                    evidence=(f"merged from {merge.pk}: " + event.evidence)[:300],
                    recorded_by=event.recorded_by,
                ).save(force_insert=True)
            moved.append("consents")
            continue
        if model._meta.model_name == "patientprediction":
            qs.delete()
            continue
        if qs.update(**{fname: keep}):
            moved.append(model._meta.label_lower)
    for name in ("email", "birth_date", "middle_name", "notes", "branch"):
        if not getattr(keep, name) and getattr(merge, name):
            setattr(keep, name, getattr(merge, name))
    if merge.clinical_notes:
        keep.clinical_notes = "\n\n".join(x for x in (keep.clinical_notes, merge.clinical_notes) if x)
    keep.updated_at = timezone.now()
    keep.save()
    merge.merged_into = keep
    merge.updated_at = timezone.now()
    merge.save(update_fields=["merged_into", "updated_at"])
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.MERGE,
        object_type="patient",
        object_id=keep.pk,
        fields=moved,
        request=request,
    )
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.MERGE,
        object_type="patient",
        object_id=merge.pk,
        fields=["merged_into"],
        request=request,
    )
    return keep


@transaction.atomic
def consent_record(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    purpose: str,
    granted: bool,
    method: str,
    evidence: str = "",
    template_version: str = "",
    template_text: str = "",
    at: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> ConsentEvent:
    if patient.organization_id != org.id:
        raise ValidationFailed("patient belongs to another organisation")
    if purpose not in ConsentPurpose.values:
        raise ValidationFailed.field("purpose", f"must be one of {', '.join(ConsentPurpose.values)}")
    if method not in ConsentMethod.values:
        raise ValidationFailed.field("method", f"must be one of {', '.join(ConsentMethod.values)}")
    event = ConsentEvent(
        organization=org,
        patient=patient,
        purpose=purpose,
        kind=ConsentEventKind.GRANTED if granted else ConsentEventKind.WITHDRAWN,
        method=method,
        at=at or timezone.now(),
        template_version=template_version[:40],
        text_sha256=hashlib.sha256(template_text.encode()).hexdigest() if template_text else "",
        evidence=evidence[:300],
        recorded_by=actor if actor and actor.pk else None,
    )
    event.save(force_insert=True)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="consent",
        object_id=event.pk,
        fields=["purpose", "kind"],
        request=request,
    )
    if not granted:
        _on_consent_withdrawn(org=org, patient=patient, purpose=purpose)
    return event


def _on_consent_withdrawn(*, org: Organization, patient: Patient, purpose: str) -> None:
    """Cancel queued marketing messages on the withdrawn channel (messaging registers the hook)."""
    for hook in CONSENT_WITHDRAWN_HOOKS:
        hook(org, patient, purpose)


CONSENT_WITHDRAWN_HOOKS: list = []  # type: ignore[type-arg]
