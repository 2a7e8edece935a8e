"""Signed public links of marketing messages: unsubscribe and the offer link (which opens the booking
page on the campaign's slots). A link names the organisation, the patient and the channel or campaign;
the signature is the credential, nothing is stored."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core import signing
from django.urls import reverse

from clinicflow.booking.services.notify import public_base_url

SALT_UNSUBSCRIBE = "clinicflow.marketing.unsubscribe"
SALT_OFFER = "clinicflow.marketing.offer"


@dataclass(frozen=True)
class LinkData:
    org_id: uuid.UUID
    patient_id: uuid.UUID
    key: str  # the channel (unsubscribe) or the campaign id (offer)


def _token(salt: str, org_id: object, patient_id: object, key: str) -> str:
    return signing.dumps([str(org_id), str(patient_id), key], salt=salt, compress=True)


def read(salt: str, token: str) -> LinkData | None:
    """The link's data, or None for any token this application did not sign with that salt."""
    try:
        org_id, patient_id, key = signing.loads(token[:500], salt=salt)
        return LinkData(uuid.UUID(org_id), uuid.UUID(patient_id), str(key))
    except (signing.BadSignature, ValueError, TypeError):
        return None


def unsubscribe_url(org_id: object, patient_id: object, channel: str) -> str:
    token = _token(SALT_UNSUBSCRIBE, org_id, patient_id, channel)
    return public_base_url() + reverse("marketing_unsubscribe", args=[token])


def offer_url(org_id: object, patient_id: object, campaign_id: object) -> str:
    token = _token(SALT_OFFER, org_id, patient_id, str(campaign_id))
    return public_base_url() + reverse("marketing_offer", args=[token])
