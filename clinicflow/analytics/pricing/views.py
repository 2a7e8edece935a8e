"""The what-if planner's page: a form of levers (prefilled with their values now) → the months ahead
with intervals, a chart against the baseline, seed 004's comparison; saved scenarios and the
hypothesis log beside it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.analytics.pricing import services as svc
from clinicflow.analytics.pricing.compare import compare_first_patients
from clinicflow.core.errors import DomainError, ValidationFailed
from clinicflow.core.web import parse_date

PERM = "reports.owner"
MONTHS_FIELD = "months"


def _chart(plan: svc.Plan) -> dict[str, Any]:
    p, b = plan.prediction.months, plan.baseline.months
    return {
        "type": "line",
        "labels": [r["month"] for r in p],
        "unit": "int",
        "series": [
            {"label": _("Unique calls"), "data": [r["unique_calls"] for r in p]},
            {"label": _("Unique calls, baseline"), "data": [r["unique_calls"] for r in b]},
            {"label": _("Low (95%)"), "data": [r["low"]["unique_calls"] for r in p]},
            {"label": _("High (95%)"), "data": [r["high"]["unique_calls"] for r in p]},
            {"label": _("First visits"), "data": [r["first_visits"] for r in p]},
            {"label": _("First visits, baseline"), "data": [r["first_visits"] for r in b]},
        ],
    }


def _levers_from(request: AuthedRequest, current: dict[str, Any]) -> dict[str, str]:
    """The levers moved in the form: the fields whose value differs from the value now."""
    out = {}
    for name, now in current.items():
        raw = (
            request.GET.get(name, "").strip()
            if request.method == "GET"
            else request.POST.get(name, "").strip()
        )
        if raw and raw != str(now):
            out[name] = raw
    return out


def _months(raw: str) -> int:
    try:
        return int(raw or 6)
    except ValueError:
        return 0  # refused by the service with the field's name


@require_perm(PERM)
def whatif_page(request: AuthedRequest) -> HttpResponse:
    org = request.org
    context: dict[str, Any] = {
        "scenarios": svc.scenario_list(org=org),
        "hypotheses": svc.hypothesis_list(org=org),
    }
    status = 200
    try:
        model = svc.plan_model(org=org)
    except DomainError as exc:  # no history to plan on: said on the page, not an error of the request
        context["error"] = str(exc)
        return render(request, "analytics/pricing/whatif.html", context)
    try:
        current = model.current()
        levers = _levers_from(request, current)
        months = _months(request.GET.get(MONTHS_FIELD, ""))
        plan = svc.plan_predict(org=org, levers=levers, months=months)
        context.update(
            model=model,
            fields=[{"name": k, "now": v, "value": levers.get(k, v)} for k, v in current.items()],
            months=months,
            plan=plan,
            rows=list(zip(plan.prediction.months, plan.baseline.months, strict=True)),
            chart_json=_chart(plan),
            comparison=compare_first_patients(model, 10),
            levers=levers,
        )
    except DomainError as exc:
        context["error"] = str(exc)
        status = 422
    return render(request, "analytics/pricing/whatif.html", context, status=status)


def _date(raw: str, name: str) -> dt.date:
    if not raw.strip():
        raise ValidationFailed.field(name, "is required")
    return parse_date(raw, dt.date.min, name)


def _back() -> HttpResponse:
    return HttpResponseRedirect(reverse("whatif:page"))


@require_POST
@require_perm(PERM)
def scenario_save(request: AuthedRequest) -> HttpResponse:
    org = request.org
    try:
        current = svc.plan_model(org=org).current()
        svc.scenario_save(
            org=org,
            actor=request.user,
            name=request.POST.get("name", ""),
            note=request.POST.get("note", ""),
            levers=_levers_from(request, current),
            months=_months(request.POST.get(MONTHS_FIELD, "")),
        )
    except DomainError as exc:
        return _error(request, exc)
    return _back()


@require_POST
@require_perm(PERM)
def scenario_delete(request: AuthedRequest, scenario_id: str) -> HttpResponse:
    try:
        row = svc.scenario_get(org=request.org, scenario_id=scenario_id)
        svc.scenario_delete(org=request.org, actor=request.user, scenario=row)
    except DomainError as exc:
        return _error(request, exc)
    return _back()


@require_POST
@require_perm(PERM)
def hypothesis_create(request: AuthedRequest) -> HttpResponse:
    org = request.org
    try:
        sid = request.POST.get("scenario", "")
        scenario = svc.scenario_get(org=org, scenario_id=sid) if sid else None
        start = _date(request.POST.get("start", ""), "start")
        end = _date(request.POST.get("end", ""), "end")
        svc.hypothesis_log(
            org=org,
            actor=request.user,
            idea=request.POST.get("idea", ""),
            start=start,
            end=end,
            scenario=scenario,
        )
    except DomainError as exc:
        return _error(request, exc)
    return _back()


def _hypothesis_do(request: AuthedRequest, hypothesis_id: str, action: str) -> HttpResponse:
    org = request.org
    try:
        h = svc.hypothesis_get(org=org, hypothesis_id=hypothesis_id)
        if action == "measure":
            svc.hypothesis_measure(org=org, actor=request.user, hypothesis=h)
        elif action == "decide":
            svc.hypothesis_decide(
                org=org, actor=request.user, hypothesis=h, decision=request.POST.get("decision", "")
            )
        else:
            svc.hypothesis_delete(org=org, actor=request.user, hypothesis=h)
    except DomainError as exc:
        return _error(request, exc)
    return _back()


@require_POST
@require_perm(PERM)
def hypothesis_measure(request: AuthedRequest, hypothesis_id: str) -> HttpResponse:
    return _hypothesis_do(request, hypothesis_id, "measure")


@require_POST
@require_perm(PERM)
def hypothesis_decide(request: AuthedRequest, hypothesis_id: str) -> HttpResponse:
    return _hypothesis_do(request, hypothesis_id, "decide")


@require_POST
@require_perm(PERM)
def hypothesis_delete(request: AuthedRequest, hypothesis_id: str) -> HttpResponse:
    return _hypothesis_do(request, hypothesis_id, "delete")


def _error(request: AuthedRequest, exc: DomainError) -> HttpResponse:
    context = {
        "error": str(exc),
        "scenarios": svc.scenario_list(org=request.org),
        "hypotheses": svc.hypothesis_list(org=request.org),
    }
    return render(request, "analytics/pricing/whatif.html", context, status=getattr(exc, "status", 422))
