"""Audiences: ``POST /audiences/count`` (a live count of filters), ``POST/GET /audiences``."""

from typing import Any

from ninja import Field, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.core.api import ERRORS
from clinicflow.marketing.models import Audience
from clinicflow.marketing.selectors import audiences as selectors
from clinicflow.marketing.services import audiences as services

router = Router(tags=["marketing"])


class FiltersIn(Schema):
    filters: dict[str, Any] = Field(..., description="filter field -> value; an unknown field is a 422")


class CountOut(Schema):
    count: int


class AudienceIn(FiltersIn):
    name: str = Field(..., max_length=200)


class AudienceOut(Schema):
    id: str
    name: str
    filters: dict[str, Any]
    count: int


def audience_out(a: Audience, count: int) -> dict[str, Any]:
    return {"id": str(a.pk), "name": a.name, "filters": a.filters, "count": count}


@router.post("/audiences/count", response={200: CountOut, **ERRORS})
@api_perm("marketing.view")
def audience_count(request: ApiRequest, payload: FiltersIn) -> dict[str, Any]:
    """How many patients the filters select, now."""
    return {"count": selectors.audience_count(org=request.org, filters=payload.filters)}


@router.post("/audiences", response={201: AudienceOut, **ERRORS})
@api_perm("marketing.manage")
def audience_create(request: ApiRequest, payload: AudienceIn) -> Status[dict[str, Any]]:
    """Save an audience. 422 naming an unknown or bad filter field; nothing stored."""
    a = services.audience_create(
        org=request.org, actor=request.auth, name=payload.name, filters=payload.filters
    )
    return Status(201, audience_out(a, selectors.audience_count(org=request.org, filters=a.filters)))


@router.get("/audiences", response={200: list[AudienceOut], **ERRORS})
@api_perm("marketing.view")
def audience_list(request: ApiRequest) -> list[dict[str, Any]]:
    org = request.org
    return [
        audience_out(a, selectors.audience_count(org=org, filters=a.filters))
        for a in selectors.audience_list(org=org)
    ]


@router.get("/audiences/{audience_id}", response={200: AudienceOut, **ERRORS})
@api_perm("marketing.view")
def audience_detail(request: ApiRequest, audience_id: str) -> dict[str, Any]:
    a = selectors.audience_get(org=request.org, audience_id=audience_id)
    return audience_out(a, selectors.audience_count(org=request.org, filters=a.filters))
