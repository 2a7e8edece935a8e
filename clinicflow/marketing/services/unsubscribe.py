"""Unsubscribe by link (no login): records the withdrawal of the channel's marketing consent at once;
the consent-withdrawal hook cancels the patient's queued marketing messages on that channel."""

from __future__ import annotations

from django.db import transaction

from clinicflow.marketing import links
from clinicflow.marketing.selectors import public as selectors
from clinicflow.patients.models import MARKETING_PURPOSE_BY_CHANNEL, ConsentMethod
from clinicflow.patients.selectors import has_consent
from clinicflow.patients.services import consent_record


@transaction.atomic
def unsubscribe(*, token: str) -> bool:
    """Withdraw the marketing consent the link names; False for a link this application did not sign.
    Unsubscribing twice records nothing more."""
    data = links.read(links.SALT_UNSUBSCRIBE, token)
    purpose = MARKETING_PURPOSE_BY_CHANNEL.get(data.key) if data else None
    found = selectors.link_target(data) if data and purpose else None
    if found is None or purpose is None:
        return False
    org, patient = found
    if has_consent(org=org, patient_id=patient.pk, purpose=purpose):
        consent_record(
            org=org,
            actor=None,
            patient=patient,
            purpose=purpose,
            granted=False,
            method=ConsentMethod.WEB_FORM,
            evidence="unsubscribe link in a marketing message",
        )
    return True


@transaction.atomic
def offer_click(*, token: str) -> str | None:
    """Record the click of an offer link; the path of the booking page it opens, or None."""
    data = links.read(links.SALT_OFFER, token)
    found = selectors.link_target(data) if data else None
    if data is None or found is None:
        return None
    org, patient = found
    recipient = selectors.recipient_for_link(org=org, campaign_key=data.key, patient=patient)
    if recipient is None:
        return None
    if recipient.clicked_at is None:
        selectors.mark_clicked(org=org, recipient=recipient)
    campaign = recipient.campaign
    branch_id = campaign.branch_id or patient.branch_id or selectors.first_branch_id(org=org)
    path = f"/book/{branch_id}/"
    if campaign.service_id is not None:
        path += f"?service={campaign.service_id}"
    return path
