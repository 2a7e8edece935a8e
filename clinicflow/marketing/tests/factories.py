"""Test helpers of the marketing app."""

from __future__ import annotations

from typing import Any

from clinicflow.booking.tests.factories import make_patient
from clinicflow.core.models import Organization
from clinicflow.patients.models import Patient
from clinicflow.patients.services import consent_record


def consent(
    org: Organization, patient: Patient, purpose: str = "marketing_sms", granted: bool = True
) -> None:
    consent_record(org=org, actor=None, patient=patient, purpose=purpose, granted=granted, method="written")


def patient(org: Organization, n: int, *, granted: bool | None = True, **fields: Any) -> Patient:
    """A patient with a unique phone and e-mail; ``granted``: SMS marketing consent (None: never asked)."""
    p = make_patient(org, phone=f"+7916100{n:04d}", first_name=f"P{n}", email=f"p{n}@example.test", **fields)
    if granted is not None:
        consent(org, p, granted=granted)
    return p
