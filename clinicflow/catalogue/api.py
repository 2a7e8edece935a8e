"""Catalogue API: list, read and create services. Thin handlers over selectors and services; every
operation declares its permission.

Which services a branch offers (``GET /services?branch=``) is decided above the catalogue (booking:
the services some active doctor of the branch performs), so the router is built by ``build_router``
with that rule handed in by the API's composition root (``config/api.py``); the catalogue imports
nothing above accounts and core.
"""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from ninja import Query, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.catalogue import selectors, services
from clinicflow.catalogue.product_api import router as product_router
from clinicflow.catalogue.schemas import ServiceIn, ServiceOut, service_out
from clinicflow.core.api import ERRORS
from clinicflow.core.selectors import branch_named

# (org=, branch=) -> a values query of the ids of the services the branch offers
OfferedAt = Callable[..., QuerySet[Any]]


class ServiceParams(Schema):
    branch: str | None = None
    online: bool = False
    active: bool = True


@api_perm("catalogue.view")
def service_detail(request: ApiRequest, service_id: str) -> dict[str, Any]:
    """One service (archived ones too); another organisation's id is a 404."""
    return service_out(selectors.service_get(org=request.org, service_id=service_id))


@api_perm("catalogue.manage")
def service_create(request: ApiRequest, payload: ServiceIn) -> Status[dict[str, Any]]:
    """Create a service with its list price. 201 with the service; 422 naming a bad field."""
    org = request.org
    service = services.service_create(
        org=org,
        actor=request.auth,
        code=payload.code,
        price=payload.money(org.currency),
        details=payload.details(),
        request=request,
    )
    return Status(201, service_out(service))


def build_router(*, offered_at: OfferedAt) -> Router:
    """The catalogue's router; ``offered_at(org=, branch=)`` answers which services a branch offers."""
    router = Router(tags=["catalogue"])

    @router.get("/services", response={200: list[ServiceOut], **ERRORS})
    @api_perm("catalogue.view")
    def service_list(request: ApiRequest, params: Query[ServiceParams]) -> list[dict[str, Any]]:
        """Services (current ones unless `active=false`); `branch` keeps those the branch offers,
        `online` those bookable online."""
        org = request.org
        branch = branch_named(org=org, branch_id=params.branch)
        among = offered_at(org=org, branch=branch) if branch is not None else None
        found = selectors.service_list(org=org, active=params.active, online_only=params.online, among=among)
        return [service_out(s) for s in found]

    router.post("/services", response={201: ServiceOut, **ERRORS})(service_create)
    router.get("/services/{service_id}", response={200: ServiceOut, **ERRORS})(service_detail)
    router.add_router("", product_router)
    return router
