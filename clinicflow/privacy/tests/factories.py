"""Breach-register test data."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.models import Organization
from clinicflow.privacy.models import Incident
from clinicflow.privacy.services import IncidentDetails, incident_create


def make_incident(
    org: Organization,
    *,
    actor: User | None = None,
    discovered_at: dt.datetime | None = None,
    jurisdictions: list[str] | None = None,
    **fields: Any,
) -> Incident:
    details = IncidentDetails(
        title=fields.pop("title", "Laptop stolen from the front desk"),
        discovered_at=discovered_at or timezone.now() - dt.timedelta(hours=1),
        facts=fields.pop("facts", "An unencrypted laptop was taken from the reception."),
        **fields,
    )
    return incident_create(org=org, actor=actor, details=details, jurisdictions=jurisdictions)
