from typing import Any

from ninja import Field, Router, Schema

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.analytics.owner.scorecards import weights
from clinicflow.analytics.owner.services import scorecard_weights_set
from clinicflow.analytics.reports.base import build_context, get_report, result_to_json, run_report
from clinicflow.core.api import ERRORS
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import PermissionDenied
from clinicflow.core.models import AuditAction, AuditOutcome

router = Router(tags=["reports"])


class ColumnOut(Schema):
    key: str
    label: str
    kind: str


class ReportOut(Schema):
    name: str
    title: str
    date_from: str = Field(..., alias="from")
    date_to: str = Field(..., alias="to")
    currency: str
    columns: list[ColumnOut]
    rows: list[dict[str, Any]]
    totals: dict[str, Any] | None = None
    notes: list[str]
    params: dict[str, str]
    branch: str | None = None


@router.get("/{name}", response={200: ReportOut, **ERRORS}, by_alias=True)
@api_perm("reports.view")
def report(request: ApiRequest, name: str) -> dict[str, Any]:
    """Any report as JSON: `from`, `to` (YYYY-MM-DD, in the branch's zone), `branch` (id or slug), and the
    report's own parameters (e.g. `model` for attribution). A report the role may not see is a 403 and
    an ``outcome=denied`` audit row."""
    spec = get_report(name[:60])
    user, org = request.auth, request.org
    if not user.has_perm_cf(spec.permission):
        audit_record(
            org=org,
            actor=user,
            action=AuditAction.VIEW,
            object_type="report",
            object_id=spec.name,
            request=request,
            outcome=AuditOutcome.DENIED,
        )
        raise PermissionDenied(f"your role may not see this report ({spec.permission})")
    ctx = build_context(spec, org=org, user=user, query=request.GET)
    data = result_to_json(spec, ctx, run_report(spec, ctx))
    return data


class WeightsIn(Schema):
    weights: dict[str, int]


class WeightsOut(Schema):
    weights: dict[str, int]


@router.put("/scorecards/weights", response={200: WeightsOut, **ERRORS})
@api_perm("reports.owner")
def scorecard_weights(request: ApiRequest, payload: WeightsIn) -> dict[str, Any]:
    """Set the department scorecards' weights: ``{"weights": {"front_desk.callbacks": 40, ...}}`` (each
    0-100; an unknown part or a bad value is a 422 naming it, and nothing is stored). Returns every
    part's weight now."""
    scorecard_weights_set(org=request.org, actor=request.auth, weights=payload.weights)
    return {"weights": {f"{d}.{p}": w for (d, p), w in weights(org=request.org).items()}}
