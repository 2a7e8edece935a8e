"""Campaigns: only eligible patients are messaged (consent, unsubscribe, the weekly cap), checked again
at send time; reproducible splits; capacity-aware campaigns stop when the slots are filled."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from clinicflow.core.models import Branch, Organization
from clinicflow.marketing import jobs, links
from clinicflow.marketing.models import Campaign, CampaignStatus, MarketingSettings, Recipient
from clinicflow.marketing.services import campaigns as services
from clinicflow.marketing.services.audiences import audience_create
from clinicflow.marketing.tests.factories import consent, patient
from clinicflow.messaging.models import Message, Status
from clinicflow.messaging.services import message_enqueue
from clinicflow.patients.models import Patient

pytestmark = pytest.mark.django_db


def _campaign(org: Organization, name: str = "Spring", holdout: int = 0, **kw: Any) -> Campaign:
    audience = audience_create(org=org, actor=None, name=f"All {name}", filters={})
    return services.campaign_create(
        org=org,
        actor=None,
        name=name,
        audience=audience,
        channel="sms",
        holdout_percent=holdout,
        variants=[services.VariantIn("Spring offer", "Laser -20% until May")],
        **kw,
    )


def _marketing(org: Organization, p: Patient, n: int) -> None:
    with transaction.atomic():
        message_enqueue(
            org=org,
            patient=p,
            channel="sms",
            kind="marketing",
            purpose="marketing",
            context={"headline": "Old", "text": "Earlier news", "manage_url": ""},
            dedupe_key=f"old:{p.pk}:{n}",
        )


def _sent_to(org: Organization) -> Counter[Any]:
    rows = Message.objects.for_org(org).filter(purpose="marketing").exclude(status=Status.CANCELLED)
    return Counter(rows.values_list("patient_id", flat=True))


def test_a_campaign_messages_only_the_eligible_patients(org: Organization, branch: Branch) -> None:
    MarketingSettings.objects.create(organization=org, weekly_cap=2)
    eligible = [patient(org, i) for i in range(3)]
    never_asked = patient(org, 10, granted=None)
    refused = patient(org, 11, granted=False)
    email_only = patient(org, 12, granted=None)
    consent(org, email_only, purpose="marketing_email")
    unsubscribed = patient(org, 13)
    over_cap = patient(org, 14)
    _marketing(org, over_cap, 1)
    _marketing(org, over_cap, 2)
    late_withdrawal = patient(org, 15)  # consents when queued, withdraws before the send

    campaign = _campaign(org)
    # unsubscribing by the link in an earlier message: no login, effective at once
    token = links.unsubscribe_url(org.pk, unsubscribed.pk, "sms").rsplit("/u/", 1)[1].rstrip("/")
    page = Client().get(f"/u/{token}/")
    assert page.status_code == 200
    assert Client().post(f"/u/{token}/").status_code == 200

    queued = services.campaign_queue(org=org, actor=None, campaign=campaign)
    assert queued == 5  # the three eligible, the over-the-cap one and the late withdrawal (consent now)
    consent(org, late_withdrawal, granted=False)
    assert jobs.campaigns_send().startswith("campaigns=1 messages=3")

    sent = _sent_to(org)
    assert {p.pk for p in eligible} <= set(sent)
    for p in eligible:
        assert sent[p.pk] == 1
    assert sent[over_cap.pk] == 2  # the two earlier ones, not a third
    for p in (never_asked, refused, email_only, unsubscribed, late_withdrawal):
        assert sent[p.pk] == 0
    reasons = dict(
        Recipient.objects.for_org(org).filter(campaign=campaign).values_list("patient_id", "reason")
    )
    assert reasons[over_cap.pk] == "weekly_cap"
    assert reasons[late_withdrawal.pk] == "no_consent_or_address"
    # the next pass finds nothing pending and closes the campaign; sending again adds nothing
    jobs.campaigns_send()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DONE
    assert _sent_to(org) == sent


def test_messages_are_in_the_patients_language_with_a_working_unsubscribe_link(
    org: Organization, branch: Branch
) -> None:
    p = patient(org, 1, preferred_language="ru")
    campaign = _campaign(org)
    services.campaign_queue(org=org, actor=None, campaign=campaign)
    jobs.campaigns_send()
    message = Message.objects.for_org(org).get(patient=p, purpose="marketing")
    assert message.language == "ru"
    url = message.context["manage_url"]
    token = url.rsplit("/u/", 1)[1].rstrip("/")
    assert Client().post(f"/u/{token}/").status_code == 200
    second = _campaign(org, name="Summer")
    assert services.campaign_queue(org=org, actor=None, campaign=second) == 0  # unsubscribed: not in it


def test_a_tampered_unsubscribe_link_changes_nothing(org: Organization, branch: Branch) -> None:
    p = patient(org, 1)
    token = links.unsubscribe_url(org.pk, p.pk, "sms").rsplit("/u/", 1)[1].rstrip("/")
    assert Client().post(f"/u/{token[:-2]}xx/").status_code == 404
    campaign = _campaign(org)
    assert services.campaign_queue(org=org, actor=None, campaign=campaign) == 1


def test_the_split_is_reproducible_and_keeps_a_holdout() -> None:
    keys, weights = ["A", "B"], [1, 1]
    first = [services.assign("c1", f"p{i}", keys, weights, 20) for i in range(4000)]
    again = [services.assign("c1", f"p{i}", keys, weights, 20) for i in range(4000)]
    assert first == again
    counts = Counter(first)
    assert 700 < counts["holdout"] < 900
    assert 1450 < counts["A"] < 1750 and 1450 < counts["B"] < 1750
    other = [services.assign("c2", f"p{i}", keys, weights, 20) for i in range(4000)]
    assert other != first  # another campaign splits afresh


def test_bad_campaign_input_is_refused_naming_the_field(org: Organization, branch: Branch) -> None:
    audience = audience_create(org=org, actor=None, name="All", filters={})
    with pytest.raises(Exception) as exc:
        services.campaign_create(
            org=org,
            actor=None,
            name="X",
            audience=audience,
            channel="fax",
            variants=[services.VariantIn("H", "T")],
        )
    assert "channel" in str(getattr(exc.value, "fields", exc.value))
    assert not Campaign.objects.for_org(org).exists()


def test_queueing_splits_every_patient_as_assign_does_with_new_v7_ids(
    org: Organization, branch: Branch
) -> None:
    patients = [patient(org, i) for i in range(30)]
    campaign = _campaign(org, holdout=30)
    keys, weights = ["A"], [1]
    assert services.split(campaign.pk, [p.pk for p in patients], keys, weights, 30) == [
        services.assign(campaign.pk, p.pk, keys, weights, 30) for p in patients
    ]
    assert services.campaign_queue(org=org, actor=None, campaign=campaign) == 30
    rows = Recipient.objects.for_org(org).filter(campaign=campaign)
    holdout = campaign.holdout_percent
    assert {r.patient_id: r.variant for r in rows} == {
        p.pk: services.assign(campaign.pk, p.pk, ["A"], [1], holdout) for p in patients
    }
    assert {(r.status == "holdout") == (r.variant == "holdout") for r in rows} == {True}
    assert {r.pk.version for r in rows} == {7} and len({r.pk for r in rows}) == 30
