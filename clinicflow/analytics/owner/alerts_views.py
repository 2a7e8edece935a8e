"""The alerts page (``/analytics/owner/alerts/``): the alerts the daily check found (open ones, or all),
each marked seen or dismissed here; the owner's thresholds, added and removed (by the owner: a manager
reads them); and the opt-in to the alerts by e-mail. Every POST names its ``action``; a bad field
answers 422 with its name."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect, render

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.analytics.owner.alert_models import AlertState
from clinicflow.analytics.owner.alerts import METRICS, RULE_METRICS
from clinicflow.analytics.owner.alerts_selectors import OPEN, alert_list, alert_rules, alert_subscribed
from clinicflow.analytics.owner.alerts_services import (
    RULES_PERMISSION,
    alert_rule_delete,
    alert_rule_set,
    alert_state_set,
    alert_subscription_set,
    describe,
)
from clinicflow.analytics.selectors import report_branches
from clinicflow.core.errors import DomainError, ValidationFailed
from clinicflow.core.selectors import parse_uuid


def _id(request: AuthedRequest, name: str) -> uuid.UUID:
    value = parse_uuid(request.POST.get(name, ""))
    if value is None:
        raise ValidationFailed.field(name, "must be an id")
    return value


def _act(request: AuthedRequest) -> None:
    """One change named by the POST's ``action``."""
    org, post = request.org, request.POST
    action = post.get("action", "")
    if action == "state":
        alert_state_set(org=org, alert_id=_id(request, "alert"), state=post.get("state", ""))
    elif action == "rule_set":
        alert_rule_set(
            org=org,
            actor=request.user,
            metric=post.get("metric", ""),
            threshold=post.get("threshold", ""),
            window_days=post.get("window_days", "14"),
            branch=post.get("branch", ""),
            request=request,
        )
    elif action == "rule_delete":
        alert_rule_delete(org=org, rule_id=_id(request, "rule"), actor=request.user, request=request)
    elif action == "subscribe":
        alert_subscription_set(org=org, user=request.user, on=post.get("on") == "1")
    else:
        raise ValidationFailed.field("action", "must be one of state, rule_set, rule_delete, subscribe")


@require_perm("reports.owner")
def alerts_page(request: AuthedRequest) -> HttpResponse:
    error = None
    status = 200
    if request.method == "POST":
        try:
            _act(request)
            return redirect(f"{request.path}?{request.GET.urlencode()}")
        except DomainError as exc:
            error, status = exc.message, exc.status
    show_all = request.GET.get("show") == "all"
    alerts = alert_list(org=request.org, states=AlertState.values if show_all else OPEN)
    rows: list[dict[str, Any]] = [{"alert": a, **describe(a)} for a in alerts]
    return render(
        request,
        "analytics/owner/alerts.html",
        {
            "rows": rows,
            "show_all": show_all,
            "rules": [(r, str(METRICS[r.metric].label)) for r in alert_rules(org=request.org)],
            "metrics": [(k, str(METRICS[k].label), METRICS[k].unit) for k in RULE_METRICS],
            "may_set_rules": request.user.has_perm_cf(RULES_PERMISSION),
            "subscribed": alert_subscribed(org=request.org, user=request.user),
            "branches": report_branches(org=request.org),
            "error": error,
            "query": request.GET.urlencode(),
        },
        status=status,
    )
