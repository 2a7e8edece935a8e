"""Fixtures shared by the analytics tests."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db.models import Min

from clinicflow.analytics.models import FactsChange
from clinicflow.analytics.owner.facts import rebuild
from clinicflow.booking.models import Appointment, AppointmentStatus
from clinicflow.core.models import Organization
from clinicflow.simulator.runner import simulate_org
from clinicflow.simulator.scenario import load_scenario

SCENARIO = {"clinic": {"months": 3, "end_date": "2026-11-30"}}


@pytest.fixture
def built(org: Organization) -> Organization:
    """A simulated clinic (3 months) with its facts built and no change pending."""
    simulate_org(org=org, scenario=load_scenario(overrides=SCENARIO), seed=7)
    rebuild(org)
    FactsChange.objects.for_org(org).delete()
    return org


def first_happened(org: Organization) -> dict[uuid.UUID, dt.datetime]:
    """Each patient's first visit that happened (its start)."""
    return dict(
        Appointment.objects.for_org(org)
        .filter(status__in=[AppointmentStatus.ARRIVED, AppointmentStatus.DONE])
        .values("patient_id")
        .annotate(at=Min("start_at"))
        .values_list("patient_id", "at")
        .order_by()
    )
