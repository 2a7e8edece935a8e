"""Correction (GDPR Art 16, 152-FZ Art 20 part 3, PIPL Art 46) and withdrawal of consents
(GDPR Art 7(3), 152-FZ Art 9 part 2, PIPL Art 15), each logged as a subject request.

A withdrawal goes through ``patients.services.consent_record``, so it takes effect everywhere at once:
audiences and the outbox read the latest consent event at send time, and the withdrawal hook cancels
the patient's queued marketing on that channel in the same transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.http import HttpRequest

from clinicflow.accounts.models import User
from clinicflow.core.models import Organization
from clinicflow.patients.models import ConsentEvent, ConsentEventKind, ConsentMethod, Patient
from clinicflow.patients.services import PatientData, consent_record, patient_update
from clinicflow.privacy.models import RequestKind, SubjectRequest
from clinicflow.privacy.rights.requests import request_close, request_open


def subject_correct(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    data: PatientData,
    request: HttpRequest | None = None,
) -> SubjectRequest:
    """Apply the corrected details (validated as on the patient card; a ``ValidationFailed`` names the
    field and leaves the request unlogged)."""
    with transaction.atomic():
        row = request_open(org=org, patient_id=patient.pk, kind=RequestKind.CORRECTION, actor=actor)
        patient_update(org=org, actor=actor, patient=patient, data=data, request=request)
        request_close(row, outcome={"fields": sorted(data.given)})
    return row


def granted_purposes(org: Organization, patient: Patient) -> list[str]:
    latest: dict[str, str] = {}
    events = ConsentEvent.objects.for_org(org).filter(patient=patient).order_by("at", "pk")
    for purpose, kind in events.values_list("purpose", "kind"):
        latest[purpose] = kind
    return sorted(p for p, kind in latest.items() if kind == ConsentEventKind.GRANTED)


def subject_withdraw(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    purposes: Iterable[str] | None = None,
    request: HttpRequest | None = None,
) -> SubjectRequest:
    """Withdraw the given purposes (default: every granted one) in one transaction."""
    granted = granted_purposes(org, patient)
    wanted = granted if purposes is None else [p for p in purposes if p in granted]
    with transaction.atomic():
        row = request_open(org=org, patient_id=patient.pk, kind=RequestKind.WITHDRAWAL, actor=actor)
        for purpose in wanted:
            consent_record(
                org=org,
                actor=actor,
                patient=patient,
                purpose=purpose,
                granted=False,
                method=ConsentMethod.ELECTRONIC,
                evidence="data-subject request",
                request=request,
            )
        request_close(row, outcome={"withdrawn": wanted})
    return row
