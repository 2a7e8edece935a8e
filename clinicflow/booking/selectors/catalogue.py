"""Reads of the catalogue the booking pages and API need: services and the price on a day.

Services and prices are the catalogue's (``clinicflow.catalogue.selectors``: ``service_get`` and the one
price rule ``price_at``), re-exported here for booking's callers; ``service_list(branch=...)`` stays in
booking, as it asks which services the branch's doctors perform (``services_offered_at``, which the
catalogue's ``GET /services?branch=`` is handed in config/api.py)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from clinicflow.booking.models import DoctorBranch, DoctorService
from clinicflow.catalogue import selectors as catalogue_selectors
from clinicflow.catalogue.models import Service
from clinicflow.catalogue.selectors import price_at as price_for  # the catalogue's one price rule
from clinicflow.catalogue.selectors import service_get as service_get  # re-exported for booking's callers
from clinicflow.core.models import Branch, Organization


def services_offered_at(*, org: Organization, branch: Branch) -> QuerySet[Any]:
    """The ids (a values query) of the services a branch offers: those some active doctor of it performs."""
    performers = DoctorBranch.objects.for_org(org).filter(branch=branch).values("doctor_id")
    offered = DoctorService.objects.for_org(org).filter(doctor__is_active=True, doctor_id__in=performers)
    return offered.values("service_id")


def service_list(
    *, org: Organization, online_only: bool = False, branch: Branch | None = None
) -> list[Service]:
    """Active services (the catalogue's list); with ``branch``, those the branch offers."""
    among = services_offered_at(org=org, branch=branch) if branch is not None else None
    return catalogue_selectors.service_list(org=org, online_only=online_only, among=among)


__all__ = ["price_for", "service_get", "service_list", "services_offered_at"]
