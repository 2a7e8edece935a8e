from __future__ import annotations

import pytest

from clinicflow.booking.models import Appointment, Doctor
from clinicflow.core.models import Organization
from clinicflow.simulator.demo import demo_setup, demo_simulate
from clinicflow.simulator.models import SimulationRun

SHORT = {"clinic": {"months": 1}}


@pytest.mark.django_db
def test_demo_organisations_get_simulated_life_once():
    demo_setup()
    seen: list[tuple[str, str]] = []
    results = demo_simulate(lambda slug, phase, rows, s: seen.append((slug, phase)), overrides=SHORT)
    assert set(results) == {"demo", "other"}
    assert ("demo", "done") in seen and ("other", "done") in seen
    demo, other = Organization.objects.get(slug="demo"), Organization.objects.get(slug="other")
    assert Appointment.objects.for_org(demo).filter(source="simulator").exists()
    assert set(Appointment.objects.for_org(other).values_list("currency", flat=True)) == {"CNY"}
    doctor = Doctor.objects.for_org(demo).get(full_name="Анна Соколова")
    assert doctor.user is not None and doctor.user.email == "doctor@demo.clinic"
    assert demo_simulate(overrides=SHORT) == {}
    assert SimulationRun.objects.filter(organization__in=[demo, other]).count() == 2
