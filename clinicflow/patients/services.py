"""Writes of patients: create, update, merge, consents. Each is atomic and audited."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.audit import audit_record
from clinicflow.core.crypto import phone_index
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import AuditAction, Branch, Organization
from clinicflow.core.phones import InvalidPhone, normalize
from clinicflow.patients.merging import merge_related
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
MAX_PHONES = 5
LANGUAGES = [code for code, _ in LANGUAGE_CHOICES]


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


class _Errors(dict[str, list[str]]):
    """Field errors collected while cleaning, raised together as one ``ValidationFailed``."""

    def add(self, name: str, message: str) -> None:
        self.setdefault(name, []).append(message)

    def raise_any(self) -> None:
        if self:
            first = next(iter(self))
            raise ValidationFailed(f"{first}: {self[first][0]}", fields=dict(self))


def _given_values(data: PatientData, errors: _Errors) -> dict[str, Any]:
    """The editable fields given in ``data``, strings stripped and length-checked."""
    values: dict[str, Any] = {}
    for name in EDITABLE_FIELDS:
        value = getattr(data, name)
        if value is None and name not in data.given:
            continue
        if isinstance(value, str):
            value = value.strip()
            if name in MAX_LEN and len(value) > MAX_LEN[name]:
                errors.add(name, f"at most {MAX_LEN[name]} characters")
        values[name] = "" if value is None and name not in ("birth_date", "branch") else value
    return values


def _check_values(values: dict[str, Any], *, org: Organization, creating: bool, errors: _Errors) -> None:
    for required in ("last_name", "first_name"):
        if (creating or required in values) and not values.get(required):
            errors.add(required, "is required")
    choices = {"sex": Sex.values, "source": Source.values, "preferred_language": LANGUAGES}
    for name, allowed in choices.items():
        if values.get(name) and values[name] not in allowed:
            errors.add(name, f"must be one of {', '.join(allowed)}")
    if values.get("email"):
        values["email"] = str(values["email"]).lower()
        try:
            validate_email(values["email"])
        except DjangoValidationError:
            errors.add("email", f"“{values['email']}” is not a valid e-mail address")
    birth = values.get("birth_date")
    if isinstance(birth, dt.date):
        if birth > timezone.localdate():
            errors.add("birth_date", "is in the future")
        elif birth.year < 1900:
            errors.add("birth_date", "is before 1900")
    branch = values.get("branch")
    if isinstance(branch, Branch) and branch.organization_id != org.id:
        errors.add("branch", "unknown branch")


def _clean_phones(raw_phones: list[str], *, region: str, errors: _Errors) -> list[str]:
    """The numbers in E.164, in the given order without repeats (blank entries skipped)."""
    phones: list[str] = []
    for index, raw in enumerate(raw_phones):
        if not str(raw).strip():
            continue
        try:
            e164 = normalize(str(raw), region)
        except InvalidPhone as exc:
            errors.add(f"phones[{index}]" if len(raw_phones) > 1 else "phones", f"{str(raw)[:40]!r} {exc}")
            continue
        if e164 not in phones:
            phones.append(e164)
    if len(phones) > MAX_PHONES:
        errors.add("phones", f"at most {MAX_PHONES} phone numbers")
    return phones


def _clean(
    data: PatientData, *, org: Organization, creating: bool
) -> tuple[dict[str, Any], list[str] | None]:
    """The model values and the phones (None: not given) of ``data``; ``ValidationFailed`` naming
    every bad field."""
    errors = _Errors()
    values = _given_values(data, errors)
    _check_values(values, org=org, creating=creating, errors=errors)
    phones = None
    if data.phones is not None:
        branch = values.get("branch")
        region = default_region(org, branch if isinstance(branch, Branch) else None)
        phones = _clean_phones(data.phones, region=region, errors=errors)
    errors.raise_any()
    return values, phones


def _replace_phones(*, org: Organization, patient: Patient, phones: Sequence[str]) -> None:
    # numbers are ciphertext in the table: matched by their blind index
    index = {e164: phone_index(org.pk, e164) for e164 in phones}
    mine = PatientPhone.objects.for_org(org).filter(patient=patient)
    mine.exclude(e164_index__in=index.values()).delete()
    existing = set(mine.values_list("e164_index", flat=True))
    PatientPhone.objects.bulk_create(
        PatientPhone(organization=org, patient=patient, e164=e164, is_primary=(i == 0))
        for i, e164 in enumerate(phones)
        if index[e164] not in existing
    )
    for i, e164 in enumerate(phones):
        mine.filter(e164_index=index[e164]).update(is_primary=(i == 0))


@transaction.atomic
def patient_create(
    *, org: Organization, actor: User | None, data: PatientData, request: HttpRequest | None = None
) -> Patient:
    values, phones = _clean(data, org=org, creating=True)
    patient = Patient(organization=org, created_by=actor if actor and actor.pk else None)
    for name, value in values.items():
        setattr(patient, name, value)
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


def _merge_fields(*, keep: Patient, merge: Patient) -> None:
    """Fill the kept card's empty fields from the merged one; clinical notes are joined."""
    for name in ("email", "birth_date", "middle_name", "notes", "branch"):
        if not getattr(keep, name) and getattr(merge, name):
            setattr(keep, name, getattr(merge, name))
    if merge.clinical_notes:
        keep.clinical_notes = "\n\n".join(x for x in (keep.clinical_notes, merge.clinical_notes) if x)


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
    moved = merge_related(org=org, keep=keep, merge=merge)
    _merge_fields(keep=keep, merge=merge)
    keep.updated_at = timezone.now()
    keep.save()
    merge.merged_into = keep
    merge.updated_at = timezone.now()
    merge.save(update_fields=["merged_into", "updated_at"])
    for patient, fields in ((keep, moved), (merge, ["merged_into"])):
        audit_record(
            org=org,
            actor=actor,
            action=AuditAction.MERGE,
            object_type="patient",
            object_id=patient.pk,
            fields=fields,
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


ConsentWithdrawnHook = Callable[[Organization, Patient, str], object]
# Filled by the apps above patients at start-up (messaging cancels queued marketing on that channel).
CONSENT_WITHDRAWN_HOOKS: list[ConsentWithdrawnHook] = []
