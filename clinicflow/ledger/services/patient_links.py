"""The patient's secure link (no login): 128 random bits, only its SHA-256 stored, expiring.

``patient_link_create`` returns the token once (with the URL ``/my/<token>/``); the public page
(``views/patient_link.py``) finds the link by the token's hash and refuses it after ``expires_at``."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.booking.services.notify import public_base_url
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditAction, Organization
from clinicflow.ledger.models import PatientLink
from clinicflow.patients.models import Patient

TOKEN_BYTES = 16  # 128 bits
DEFAULT_DAYS = 30
MAX_DAYS = 365


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_url(token: str) -> str:
    return f"{public_base_url()}/my/{token}/"


def patient_link_create(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    days: object = DEFAULT_DAYS,
    request: object = None,
) -> tuple[PatientLink, str]:
    """A new link for ``patient`` lasting ``days``: (the link, its token — shown once)."""
    try:
        count = int(str(days))
    except ValueError as exc:
        raise ValidationFailed.field("days", "a whole number of days") from exc
    if not 0 < count <= MAX_DAYS:
        raise ValidationFailed.field("days", f"between 1 and {MAX_DAYS}")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = PatientLink.objects.create(
        organization=org, patient=patient, token_hash=token_hash(token),
        expires_at=timezone.now() + dt.timedelta(days=count), created_by=actor,
    )  # fmt: skip
    audit_record(
        org=org, actor=actor, action=AuditAction.CREATE, object_type="patient_link", object_id=patient.pk,
        fields=["expires_at"], request=request,  # type: ignore[arg-type]
    )  # fmt: skip
    return link, token


def link_by_token(token: str) -> PatientLink | None:
    if not 0 < len(token) <= 64:
        return None
    return (
        PatientLink.objects.filter(token_hash=token_hash(token))
        .select_related("patient", "organization")
        .first()
    )
