"""Set-ups of the checkout link, coupon and browser tests: a visit done today (on the branch's clock)
and marketing offers with their codes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from clinicflow.booking.models import Appointment
from clinicflow.booking.tests.factories import make_doctor, make_service
from clinicflow.catalogue.models import Service
from clinicflow.core.models import Branch, Organization
from clinicflow.ledger.tests.factories import make_patient
from clinicflow.marketing.models import Coupon, Offer
from clinicflow.marketing.services import offers
from clinicflow.patients.models import Patient


def branch_today(branch: Branch) -> dt.date:
    """Today on the branch's clock (late evening UTC is already tomorrow in Moscow)."""
    return timezone.now().astimezone(branch.tz).date()


def peel(org: Organization) -> Service:
    found = Service.objects.for_org(org).filter(code="peel-v").first()
    return found or make_service(org, "peel-v", name="Peel", category="cosmetology", price=Decimal("9000"))


def make_visit(
    org: Organization,
    branch: Branch,
    *,
    patient: Patient | None = None,
    hours_ago: float = 1,
    status: str = "done",
    service: Service | None = None,
) -> Appointment:
    """A visit of ``service`` (the 9,000 RUB peel) that started ``hours_ago`` (still today in the
    branch's zone when 1 hour: the tests run late in the UTC evening, early in Moscow)."""
    service = service or peel(org)
    doctor = make_doctor(org, branch, [service], f"Dr Peel {Appointment.objects.for_org(org).count()}")
    patient = patient or make_patient(org, preferred_language="en")
    start = timezone.now() - dt.timedelta(hours=hours_ago)
    return Appointment.objects.create(
        organization=org,
        branch=branch,
        patient=patient,
        service=service,
        doctor=doctor,
        start_at=start,
        end_at=start + dt.timedelta(minutes=30),
        busy_until=start + dt.timedelta(minutes=30),
        status=status,
        price=service.price,
        currency="RUB",
    )


def make_offer(org: Organization, branch: Branch, **fields: Any) -> Offer:
    """A 20 % offer valid from yesterday to tomorrow (branch days) unless ``fields`` say otherwise."""
    today = branch_today(branch)
    values: dict[str, Any] = {
        "name": "Winter peel",
        "kind": "percent",
        "percent": Decimal(20),
        "valid_from": today - dt.timedelta(days=1),
        "valid_to": today + dt.timedelta(days=1),
    }
    values.update(fields)
    return offers.offer_create(org=org, actor=None, data=offers.OfferData(**values))


def shared_code(org: Organization, offer: Offer, code: str) -> Coupon:
    """A shared (not single-use) code of the offer."""
    return Coupon.objects.create(organization=org, offer=offer, code=code, single_use=False)
