"""Test data for messaging: patients with contacts and consents."""

from __future__ import annotations

from clinicflow.core.models import Organization
from clinicflow.patients.models import ConsentMethod, ConsentPurpose, Patient
from clinicflow.patients.services import PatientData, consent_record, patient_create

APPT_CONTEXT = {
    "service": "Botox",
    "doctor": "Dr Ivanova",
    "start_local": "2026-12-01 10:00",
    "branch": "Moscow",
    "manage_url": "https://clinic.example/book/manage/abc",
}


def make_patient(
    org: Organization,
    *,
    first: str = "Anna",
    last: str = "Petrova",
    email: str = "anna@example.com",
    phones: list[str] | None = None,
    language: str = "ru",
) -> Patient:
    return patient_create(
        org=org,
        actor=None,
        data=PatientData(
            last_name=last,
            first_name=first,
            email=email,
            phones=["+79161234567"] if phones is None else phones,
            preferred_language=language,
        ),
    )


def grant(org: Organization, patient: Patient, purpose: str = ConsentPurpose.MARKETING_SMS) -> None:
    consent_record(
        org=org, actor=None, patient=patient, purpose=purpose, granted=True, method=ConsentMethod.WRITTEN
    )


def withdraw(org: Organization, patient: Patient, purpose: str = ConsentPurpose.MARKETING_SMS) -> None:
    consent_record(
        org=org, actor=None, patient=patient, purpose=purpose, granted=False, method=ConsentMethod.WRITTEN
    )
