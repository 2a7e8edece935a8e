import datetime as dt
from collections.abc import Callable
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict

from clinicflow.accounts.models import User
from clinicflow.core.phones import display
from clinicflow.patients.models import ConsentEvent, Patient


class PatientIn(Schema):
    model_config = ConfigDict(extra="ignore")

    last_name: str = Field(..., max_length=100)
    first_name: str = Field(..., max_length=100)
    middle_name: str = Field("", max_length=100)
    sex: str = "U"
    birth_date: dt.date | None = None
    email: str = Field("", max_length=254)
    phones: list[str] = Field(default_factory=list, max_length=5)
    preferred_language: str = "en"
    source: str = "other"
    notes: str = Field("", max_length=10_000)
    clinical_notes: str = Field("", max_length=50_000)
    branch: str | None = None


class PatientPatch(Schema):
    model_config = ConfigDict(extra="ignore")

    last_name: str | None = Field(None, max_length=100)
    first_name: str | None = Field(None, max_length=100)
    middle_name: str | None = Field(None, max_length=100)
    sex: str | None = None
    birth_date: dt.date | None = None
    email: str | None = Field(None, max_length=254)
    phones: list[str] | None = Field(None, max_length=5)
    preferred_language: str | None = None
    source: str | None = None
    notes: str | None = Field(None, max_length=10_000)
    clinical_notes: str | None = Field(None, max_length=50_000)
    branch: str | None = None


class PhoneOut(Schema):
    e164: str
    display: str
    is_primary: bool


class PredictionOut(Schema):
    p_alive: float
    expected_visits: float
    clv: str
    currency: str


class PatientOut(Schema):
    id: str
    last_name: str
    first_name: str
    middle_name: str
    full_name: str
    sex: str
    birth_date: dt.date | None = None
    branch: str | None = None
    preferred_language: str
    source: str
    created_at: dt.datetime
    email: str | None = None
    phones: list[PhoneOut] | None = None
    notes: str | None = None
    clinical_notes: str | None = None
    merged_into: str | None = None


def patient_out(patient: Patient, user: User, can: Callable[[str], bool] | None = None) -> dict[str, Any]:
    """Field-level rules: contacts need patients.view_contacts, clinical text patients.view_clinical
    (the user's role, or ``can``: the access decision for this card, e.g. under an emergency grant).
    Keys a role may not see are absent, not null."""
    allowed = can or user.has_perm_cf
    out: dict[str, Any] = {
        "id": str(patient.pk),
        "last_name": patient.last_name,
        "first_name": patient.first_name,
        "middle_name": patient.middle_name,
        "full_name": patient.full_name,
        "sex": patient.sex,
        "birth_date": patient.birth_date,
        "branch": str(patient.branch_id) if patient.branch_id else None,
        "preferred_language": patient.preferred_language,
        "source": patient.source,
        "created_at": patient.created_at,
        "merged_into": str(patient.merged_into_id) if patient.merged_into_id else None,
    }
    if allowed("patients.view_contacts"):
        out["email"] = patient.email
        out["phones"] = [
            {"e164": p.e164, "display": display(p.e164), "is_primary": p.is_primary}
            for p in patient.phones.all()
        ]
        out["notes"] = patient.notes
    if allowed("patients.view_clinical"):
        out["clinical_notes"] = patient.clinical_notes
    return out


class PatientPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[PatientOut]


class MergeIn(Schema):
    merge_id: str


class ConsentIn(Schema):
    purpose: str
    granted: bool
    method: str
    evidence: str = Field("", max_length=300)
    template_version: str = Field("", max_length=40)


class ConsentOut(Schema):
    id: str
    purpose: str
    kind: str
    method: str
    at: dt.datetime
    template_version: str
    text_sha256: str


def consent_out(event: ConsentEvent) -> dict[str, Any]:
    return {
        "id": str(event.pk),
        "purpose": event.purpose,
        "kind": event.kind,
        "method": event.method,
        "at": event.at,
        "template_version": event.template_version,
        "text_sha256": event.text_sha256,
    }
