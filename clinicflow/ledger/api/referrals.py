"""The referrals API and the patient's secure link.

``GET /patients/{id}/referral``: the patient's code and link (created on first ask) and the friends
they referred; ``POST /patients/{id}/referral`` ``{"code"}``: link this (new) patient to the friend
whose code it is (self-referral, a shared phone, an unknown code: 422 naming ``code``; already
referred: 409); ``POST /patients/{id}/link`` ``{"days"}``: a new secure link to the patient's page
(the token is shown once)."""

import datetime as dt
import uuid
from typing import Any

from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.core.api import ERRORS
from clinicflow.ledger.selectors.loyalty import referrals_of
from clinicflow.ledger.selectors.wallet import wallet_patient
from clinicflow.ledger.services.patient_links import link_url, patient_link_create
from clinicflow.ledger.services.referrals import referral_code_for, referral_link

router = Router(tags=["ledger"])


class ReferredOut(Schema):
    referred: uuid.UUID
    status: str
    reason: str
    created_at: dt.datetime
    rewarded_at: dt.datetime | None


class ReferralOut(Schema):
    code: str
    url: str
    referred: list[ReferredOut]


class LinkIn(Schema):
    code: str = Field(max_length=16, description="The referral code the new patient came with")


class PatientLinkIn(Schema):
    days: int = Field(default=30, description="How long the link works (1 to 365 days)")


class PatientLinkOut(Schema):
    url: str
    expires_at: dt.datetime


def _referral(request: ApiRequest, patient: Any) -> dict[str, Any]:
    referral_code_for(org=request.org, patient=patient)
    found = referrals_of(org=request.org, patient=patient)
    assert found is not None
    return {
        "code": found.code,
        "url": found.url,
        "referred": [
            {"referred": r.referred_id, "status": r.status, "reason": r.reason, "created_at": r.created_at,
             "rewarded_at": r.rewarded_at}
            for r in found.referred
        ],
    }  # fmt: skip


@router.get("/patients/{patient_id}/referral", response={200: ReferralOut, **ERRORS})
@api_perm("wallet.view", audit_object="wallet")
def referral(request: ApiRequest, patient_id: str) -> dict[str, Any]:
    """The patient's referral code and link, and the friends they referred with each one's state."""
    patient = wallet_patient(org=request.org, user=request.auth, patient_id=patient_id, request=request)
    return _referral(request, patient)


@router.post("/patients/{patient_id}/referral", response={201: ReferredOut, **ERRORS})
@api_perm("wallet.move", audit_object="wallet")
def link(request: ApiRequest, patient_id: str, data: LinkIn) -> Status[dict[str, Any]]:
    """Link this patient (the friend) to the referrer whose code they bring; both are rewarded at the
    friend's first paid visit."""
    patient = wallet_patient(
        org=request.org, user=request.auth, patient_id=patient_id, write=True, request=request
    )
    r = referral_link(org=request.org, referred=patient, code=data.code)
    body = {"referred": r.referred_id, "status": r.status, "reason": r.reason, "created_at": r.created_at,
            "rewarded_at": r.rewarded_at}  # fmt: skip
    return Status(201, body)


@router.post("/patients/{patient_id}/link", response={201: PatientLinkOut, **ERRORS})
@api_perm("wallet.move", audit_object="wallet")
def patient_link(request: ApiRequest, patient_id: str, data: PatientLinkIn) -> Status[dict[str, Any]]:
    """A new secure link to the patient's own page (balances, memberships, points, referral link);
    the URL is shown this once."""
    patient = wallet_patient(
        org=request.org, user=request.auth, patient_id=patient_id, write=True, request=request
    )
    made, token = patient_link_create(
        org=request.org, actor=request.auth, patient=patient, days=data.days, request=request
    )
    return Status(201, {"url": link_url(token), "expires_at": made.expires_at})
