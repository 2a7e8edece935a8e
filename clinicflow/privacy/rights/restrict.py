"""Restriction of processing (GDPR Art 18; 152-FZ Art 21 part 1 "blocking"): while a patient contests
the accuracy of their data or objects to its use, the clinic keeps the records but processes them no
further than storing them and the care the medical-records law requires.

In Clinicflow every processing beyond the treatment itself rests on a consent purpose (marketing by
SMS, e-mail and calls, photo publication, cross-border transfer), so a restriction withdraws each of
those that is granted, through ``consent_record``: it takes effect everywhere at once (audiences,
the outbox's queued marketing, surveys). The records stay untouched. The request is logged with its
deadline and closed with what was restricted."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from clinicflow.accounts.models import User
from clinicflow.core.models import Organization
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


def subject_restrict(
    *,
    org: Organization,
    actor: User | None,
    patient: Patient,
    reason: str = "",
    request: HttpRequest | None = None,
) -> SubjectRequest:
    """Withdraw every granted optional purpose in one transaction; the records are kept."""
    granted = set(granted_purposes(org, patient))
    stopped = [str(p) for p in RESTRICTED if p in granted]
    with transaction.atomic():
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
        request_close(
            row, outcome={"withdrawn": stopped, "kept": "every record (storage only)", "reason": reason[:500]}
        )
    return row
