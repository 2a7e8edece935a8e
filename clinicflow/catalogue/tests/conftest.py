from __future__ import annotations

from typing import Any

import pytest

from clinicflow.catalogue.models import Service
from clinicflow.catalogue.tests.factories import make_service
from clinicflow.core.models import Organization


@pytest.fixture
def laser(org: Organization, users: Any) -> Service:
    return make_service(org)


@pytest.fixture
def consult(org: Organization) -> Service:
    return make_service(
        org,
        code="consult",
        price="3000.00",
        name="Consultation",
        category="consultation",
        duration_minutes=30,
        room_type="consultation",
        is_first_visit=True,
    )


@pytest.fixture
def foreign(other_org: Organization) -> Service:
    """A service of the other organisation."""
    return make_service(other_org, code="laser-face", price="900.00", currency="CNY")
