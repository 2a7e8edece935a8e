"""Capacity-aware campaigns: they target the free slots of a service over the next days, link to the
booking page of that service, and stop sending once the slots are filled."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from clinicflow.booking.models import Appointment
from clinicflow.booking.tests.factories import make_doctor, make_room, make_service
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import Branch, Organization
from clinicflow.marketing import jobs
from clinicflow.marketing.models import CampaignStatus, Recipient
from clinicflow.marketing.services import campaigns as services
from clinicflow.marketing.services.audiences import audience_create
from clinicflow.marketing.tests.factories import patient
from clinicflow.messaging.models import Message

pytestmark = pytest.mark.django_db


def _fill(org: Organization, branch: Branch, doctor: object, service: object, p: object, days: int) -> None:
    today = timezone.now().astimezone(branch.tz).date()
    for d in range(days + 1):
        start = dt.datetime.combine(today + dt.timedelta(days=d), dt.time(0, 0), tzinfo=branch.tz)
        end = start + dt.timedelta(hours=23, minutes=59)
        Appointment.objects.create(
            organization=org,
            branch=branch,
            patient=p,
            service=service,
            doctor=doctor,
            start_at=start,
            end_at=end,
            busy_until=end,
            status="booked",
            price=Decimal(1),
            currency="RUB",
        )


def test_a_capacity_campaign_links_to_the_slots_and_stops_when_they_are_filled(
    org: Organization, branch: Branch
) -> None:
    laser = make_service(org)
    make_room(org, branch)
    doctor = make_doctor(org, branch, [laser])
    patients = [patient(org, i) for i in range(6)]
    audience = audience_create(org=org, actor=None, name="All", filters={})
    campaign = services.campaign_create(
        org=org,
        actor=None,
        name="Fill slow days",
        audience=audience,
        channel="sms",
        holdout_percent=0,
        variants=[services.VariantIn("Free this week", "Laser at 15% off")],
        branch=branch,
        service=laser,
        days_ahead=3,
        per_minute=2,
    )
    assert services.campaign_queue(org=org, actor=None, campaign=campaign) == 6
    campaign.refresh_from_db()
    assert campaign.free_slots > 0
    assert jobs.campaigns_send() == "campaigns=1 messages=2"  # rate-limited: two per pass
    message = Message.objects.for_org(org).filter(purpose="marketing").first()
    assert message is not None
    offer_url = message.context["text"].split()[-1]
    response = Client().get(offer_url.split("8000", 1)[-1] if "8000" in offer_url else offer_url)
    assert response.status_code == 302
    assert response["Location"] == f"/book/{branch.pk}/?service={laser.pk}"
    assert Recipient.objects.for_org(org).exclude(clicked_at=None).count() == 1
    _fill(org, branch, doctor, laser, patients[0], 3)
    assert jobs.campaigns_send() == "campaigns=1 messages=0"
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.STOPPED
    assert Message.objects.for_org(org).filter(purpose="marketing").count() == 2
    assert Recipient.objects.for_org(org).filter(reason="slots_filled").count() == 4


def test_nothing_to_fill_is_refused(org: Organization, branch: Branch) -> None:
    laser = make_service(org)
    make_room(org, branch)
    doctor = make_doctor(org, branch, [laser])
    p = patient(org, 1)
    _fill(org, branch, doctor, laser, p, 2)
    audience = audience_create(org=org, actor=None, name="All", filters={})
    campaign = services.campaign_create(
        org=org,
        actor=None,
        name="Fill",
        audience=audience,
        channel="sms",
        variants=[services.VariantIn("H", "T")],
        branch=branch,
        service=laser,
        days_ahead=2,
    )
    with pytest.raises(ValidationFailed) as exc:
        services.campaign_queue(org=org, actor=None, campaign=campaign)
    assert "service" in (exc.value.fields or {})
    assert not Recipient.objects.for_org(org).exists()
