"""Fixtures shared by the analytics tests."""

from __future__ import annotations

import pytest

from clinicflow.analytics.models import FactsChange
from clinicflow.analytics.owner.facts import rebuild
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
