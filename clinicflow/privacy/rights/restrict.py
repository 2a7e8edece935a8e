"""Restriction of processing (GDPR Art 18; 152-FZ Art 21 parts 1-3 "blocking"): while a patient
contests the accuracy of their data or objects to its use, the clinic keeps the records but processes
them no further than storing them and the care the medical-records law requires.

A restriction sets the patient's flag (``Patient.restricted_at`` with its reason), which every lower
layer reads: marketing audiences (and so campaign sends) leave the patient out, and messaging sends
only the messages of their own care (``messaging.models.ESSENTIAL_KINDS``: appointment messages,
booking codes, quotes) — no marketing, recall, thank-you or survey. It also withdraws each granted
optional consent purpose through ``consent_record``, which cancels the outbox's queued marketing at
once. Lifting clears the flag; the consents stay withdrawn (a consent is the patient's own act: it is
given again, never restored by staff). Both are logged as requests with their reason and audited on
the patient (fields ``restricted_at`` and ``restriction_reason``)."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict
from clinicflow.core.models import AuditAction, Organization
from clinicflow.patients.models import ConsentMethod, ConsentPurpose, Patient
from clinicflow.patients.services import consent_record
from clinicflow.privacy.models import RequestKind, SubjectRequest
from clinicflow.privacy.rights.correct import granted_purposes
from clinicflow.privacy.rights.requests import request_close, request_open

# the purposes a restriction stops: everything but health data and treatment (held by medical law)
RESTRICTED = (
    ConsentPurpose.MARKETING_SMS,
    ConsentPurpose.MARKETING_EMAIL,
    ConsentPurpose.MARKETING_CALLS,
    ConsentPurpose.PHOTO_PUBLICATION,
    ConsentPurpose.CROSS_BORDER,
)
FIELDS = ["restricted_at", "restriction_reason", "updated_at"]


def _flag(*, org: Organization, actor: User | None, patient: Patient, request: HttpRequest | None) -> None:
    patient.updated_at = timezone.now()
    patient.save(update_fields=FIELDS)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="patient",
        object_id=patient.pk,
        fields=FIELDS[:2],
        request=request,
    )


def subject_restrict(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    reason: str = "",
    request: HttpRequest | None = None,
) -> SubjectRequest:
    """Restrict the patient's processing: the flag with its reason, every granted optional purpose
    withdrawn, in one transaction; the records are kept. ``Conflict`` when already restricted."""
    reason = reason.strip()[:500]
    with transaction.atomic():
        locked = Patient.objects.for_org(org).select_for_update().get(pk=patient.pk)
        if locked.restricted_at is not None:
            raise Conflict("the patient's processing is restricted already")
        granted = set(granted_purposes(org, patient))
        stopped = [str(p) for p in RESTRICTED if p in granted]
        row = request_open(org=org, patient_id=patient.pk, kind=RequestKind.RESTRICTION, actor=actor)
        for purpose in stopped:
            consent_record(
                org=org,
                actor=actor,
                patient=patient,
                purpose=purpose,
                granted=False,
                method=ConsentMethod.ELECTRONIC,
                evidence="restriction request",
                request=request,
            )
        patient.restricted_at, patient.restriction_reason = timezone.now(), reason
        _flag(org=org, actor=actor, patient=patient, request=request)
        request_close(
            row,
            outcome={
                "restricted": True,
                "withdrawn": stopped,
                "kept": "every record (storage only)",
                "reason": reason,
            },
        )
    return row


def subject_restriction_lift(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    reason: str = "",
    request: HttpRequest | None = None,
) -> SubjectRequest:
    """Lift the restriction (the patient is told beforehand, GDPR Art 18(3)): the flag is cleared,
    the withdrawn consents are not restored. ``Conflict`` when the patient is not restricted."""
    reason = reason.strip()[:500]
    with transaction.atomic():
        locked = Patient.objects.for_org(org).select_for_update().get(pk=patient.pk)
        if locked.restricted_at is None:
            raise Conflict("the patient's processing is not restricted")
        since = locked.restricted_at
        row = request_open(org=org, patient_id=patient.pk, kind=RequestKind.RESTRICTION, actor=actor)
        patient.restricted_at, patient.restriction_reason = None, ""
        _flag(org=org, actor=actor, patient=patient, request=request)
        request_close(
            row,
            outcome={
                "restricted": False,
                "lifted": True,
                "restricted_since": since.isoformat(),
                "reason": reason,
                "consents": "withdrawn ones stay withdrawn until the patient gives them again",
            },
        )
    return row
