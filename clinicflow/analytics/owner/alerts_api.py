"""The owner's alerts API, mounted under /api/v1/: the alerts the worker's daily check found (a page of
them, by state and branch), an alert marked seen (acknowledged) or dismissed (resolved), and the
owner's thresholds. Reading and marking alerts and reading the thresholds is ``reports.owner`` (owners
and managers); setting and removing a threshold is the owner's (``alerts.rules``).

Every change is idempotent by itself (a state is set, not toggled; a second threshold on the same
metric and branch replaces the first), so no ``Idempotency-Key`` is needed: a retry answers the same."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from clinicflow.accounts.api_auth import ApiRequest, api_perm
from clinicflow.analytics.owner.alert_models import AlertRule, AlertState, OwnerAlert
from clinicflow.analytics.owner.alerts import METRICS, RULE_METRICS
from clinicflow.analytics.owner.alerts_selectors import OPEN, alert_page, alert_rule_get, alert_rules
from clinicflow.analytics.owner.alerts_services import (
    RULES_PERMISSION,
    alert_rule_delete,
    alert_rule_set,
    alert_state_set,
    describe,
)
from clinicflow.core.api import ERRORS
from clinicflow.core.errors import NotFound, ValidationFailed, require_choice
from clinicflow.core.models import Branch, Organization
from clinicflow.core.selectors import branch_find, parse_uuid

router = Router(tags=["alerts"])
PERM = "reports.owner"
STATE_FILTERS = ("open", "all", *AlertState.values)


class AlertOut(Schema):
    id: uuid.UUID
    metric: str = Field(description="one of " + ", ".join(METRICS))
    metric_label: str
    source: str = Field(description="`threshold` (the owner's rule) or `range` (out of its normal range)")
    branch: uuid.UUID | None = Field(description="the branch checked; null for the whole chain")
    branch_name: str | None
    subject: str = Field(description="the administrator's or doctor's id, a funnel step, or empty")
    subject_label: str
    period_start: dt.date
    period_end: dt.date
    value: Decimal = Field(description="percent for shares, points for NPS")
    baseline: Decimal | None = Field(description="its normal level (range alerts)")
    threshold: Decimal | None = Field(description="the owner's threshold (threshold alerts)")
    count: int = Field(description="what the value is measured on: calls, answers, appointments")
    state: str = Field(description="new, seen (acknowledged) or dismissed (resolved)")
    text: str = Field(description="the alert in words, in the caller's language")
    created_at: dt.datetime
    emailed_at: dt.datetime | None


class AlertPageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[AlertOut]


class AlertParams(Schema):
    state: str = Field("open", description="open (new and seen), all, new, seen or dismissed")
    branch: str | None = Field(None, max_length=100, description="a branch's id or slug")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=1_000_000)


class StateIn(Schema):
    state: str = Field(description="seen (acknowledged), dismissed (resolved) or new (open again)")


class RuleOut(Schema):
    id: uuid.UUID
    metric: str
    metric_label: str
    unit: str = Field(description="percent or points")
    branch: uuid.UUID | None = Field(description="null: the whole chain")
    branch_name: str | None
    threshold: Decimal
    window_days: int
    created_at: dt.datetime


class RuleIn(Schema):
    metric: str = Field(description="one of " + ", ".join(RULE_METRICS))
    threshold: Decimal = Field(
        description="percent (0..100) for shares, points (-100..100) for NPS; lower is worse for every "
        "metric but no_show_rate, which alerts above it"
    )
    window_days: int = Field(14, description="the last complete days checked (1..92; 7 for load_next_week)")
    branch: str = Field("", max_length=100, description="a branch's id or slug; empty: the whole chain")


def _alert_out(a: OwnerAlert) -> dict[str, Any]:
    words = describe(a)
    return {
        "id": a.pk,
        "metric": a.metric,
        "metric_label": words["metric"],
        "source": a.source,
        "branch": a.branch_id,
        "branch_name": a.branch.display_name if a.branch is not None else None,
        "subject": a.subject,
        "subject_label": a.subject_label,
        "period_start": a.period_start,
        "period_end": a.period_end,
        "value": a.value,
        "baseline": a.baseline,
        "threshold": a.threshold,
        "count": a.count,
        "state": a.state,
        "text": f"{words['metric']}, {words['who']}: {words['value']} ({words['period']}); "
        f"{words['reference']}",
        "created_at": a.created_at,
        "emailed_at": a.emailed_at,
    }


def _rule_out(r: AlertRule) -> dict[str, Any]:
    metric = METRICS[r.metric]
    return {
        "id": r.pk,
        "metric": r.metric,
        "metric_label": str(metric.label),
        "unit": metric.unit,
        "branch": r.branch_id,
        "branch_name": r.branch.display_name if r.branch is not None else None,
        "threshold": r.threshold,
        "window_days": r.window_days,
        "created_at": r.created_at,
    }


def _branch(org: Organization, key: str | None) -> Branch | None:
    if not key or not key.strip():
        return None
    found = branch_find(org=org, key=key.strip())
    if found is None:
        raise ValidationFailed.field("branch", "unknown branch")
    return found


def _uuid(value: str, what: str) -> uuid.UUID:
    found = parse_uuid(value)
    if found is None:
        raise NotFound(f"no such {what}")
    return found


@router.get("/alerts", response={200: AlertPageOut, **ERRORS})
@api_perm(PERM, audit_object="owner_alert")
def alert_list_api(request: ApiRequest, params: Query[AlertParams]) -> dict[str, Any]:
    """The organisation's alerts, newest first: `state` open (new and seen, the default), all, new, seen
    or dismissed; `branch` (id or slug) the alerts of that branch only; paged by `limit` and `offset`."""
    require_choice("state", params.state, STATE_FILTERS)
    states = {"open": OPEN, "all": AlertState.values}.get(params.state, [params.state])
    branch = _branch(request.org, params.branch)
    count, items = alert_page(
        org=request.org, states=states, branch=branch, limit=params.limit, offset=params.offset
    )
    return {
        "count": count,
        "limit": params.limit,
        "offset": params.offset,
        "items": [_alert_out(a) for a in items],
    }


@router.post("/alerts/{alert_id}/state", response={200: AlertOut, **ERRORS})
@api_perm(PERM, audit_object="owner_alert")
def alert_state_api(request: ApiRequest, alert_id: str, payload: StateIn) -> dict[str, Any]:
    """Mark an alert `seen` (acknowledged) or `dismissed` (resolved), or `new` again; answers the alert.
    Another organisation's alert, or no alert, is a 404."""
    alert = alert_state_set(org=request.org, alert_id=_uuid(alert_id, "alert"), state=payload.state)
    return _alert_out(alert)


@router.get("/alerts/rules", response={200: list[RuleOut], **ERRORS})
@api_perm(PERM, audit_object="alert_rule")
def alert_rules_api(request: ApiRequest) -> list[dict[str, Any]]:
    """The owner's thresholds, by metric (owners and managers read them)."""
    return [_rule_out(r) for r in alert_rules(org=request.org)]


@router.post("/alerts/rules", response={201: RuleOut, **ERRORS})
@api_perm(RULES_PERMISSION, audit_object="alert_rule")
def alert_rule_set_api(request: ApiRequest, payload: RuleIn) -> Status[dict[str, Any]]:
    """Set a threshold (the owner only): an alert when `metric` over the last `window_days` complete days
    is on the wrong side of `threshold`, for `branch` or the whole chain. A second threshold on the same
    metric and branch replaces the first. A bad field is a 422 naming it, and nothing changes."""
    rule = alert_rule_set(
        org=request.org,
        actor=request.auth,
        metric=payload.metric,
        threshold=payload.threshold,
        window_days=payload.window_days,
        branch=payload.branch,
        request=request,
    )
    found = alert_rule_get(org=request.org, rule_id=rule.pk)
    return Status(201, _rule_out(found or rule))


@router.delete("/alerts/rules/{rule_id}", response={204: None, **ERRORS})
@api_perm(RULES_PERMISSION, audit_object="alert_rule")
def alert_rule_delete_api(request: ApiRequest, rule_id: str) -> Status[None]:
    """Remove a threshold (the owner only). Another organisation's rule, or no rule, is a 404."""
    alert_rule_delete(
        org=request.org, rule_id=_uuid(rule_id, "alert rule"), actor=request.auth, request=request
    )
    return Status(204, None)
