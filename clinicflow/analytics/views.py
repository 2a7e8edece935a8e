"""Report pages: a chart, a table and CSV/XLSX exports for every registered report."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.analytics.home.views import home_page
from clinicflow.analytics.reports import capacity as capacity_report
from clinicflow.analytics.reports.base import (
    ReportSpec,
    build_context,
    get_report,
    json_value,
    load_reports,
    run_report,
)
from clinicflow.analytics.reports.export import to_csv, to_xlsx
from clinicflow.analytics.selectors import report_branches
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import DomainError, NotFound
from clinicflow.core.models import AuditAction, AuditOutcome
from clinicflow.core.selectors import branch_list
from clinicflow.core.web import branch_from_request, parse_period, render_in_zone


def _spec_for(request: AuthedRequest, name: str) -> ReportSpec:
    try:
        spec = get_report(name)
    except NotFound as exc:
        raise Http404 from exc
    return spec


def _report_denied(request: AuthedRequest, spec: ReportSpec, action: str) -> HttpResponse:
    """A role opening a report it may not see: 403 and an ``outcome=denied`` audit row."""
    audit_record(
        org=request.org,
        actor=request.user,
        action=action,
        object_type="report",
        object_id=spec.name,
        request=request,
        outcome=AuditOutcome.DENIED,
    )
    return render(request, "core/403.html", status=403)


@require_perm("reports.view")
def report_index(request: AuthedRequest) -> HttpResponse:
    user = request.user
    specs = [s for s in load_reports().values() if user.has_perm_cf(s.permission)]
    return render(request, "analytics/index.html", {"specs": sorted(specs, key=lambda s: str(s.title))})


def _chart_payload(spec: ReportSpec, rows: list[dict[str, Any]], currency: str = "") -> dict[str, Any] | None:
    """The chart's data; ``unit`` (the first series' column kind) and ``currency`` let charts.js
    label the axis and tooltips in the table's units (money with its currency, percent as percent)."""
    if spec.chart is None:
        return None
    labels = {c.key: str(c.label) for c in spec.columns}
    kinds = {c.key: c.kind for c in spec.columns}
    return {
        "type": spec.chart.type,
        "stacked": spec.chart.stacked,
        "unit": kinds.get(spec.chart.series[0], "float") if spec.chart.series else "float",
        "currency": currency,
        "labels": [str(json_value(r.get(spec.chart.x, ""))) for r in rows],
        "series": [
            {
                "label": labels.get(key, key),
                "unit": kinds.get(key, "float"),
                "data": [_num(r.get(key)) for r in rows],
            }
            for key in spec.chart.series
        ],
    }


def _num(value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@require_perm("reports.view")
def report_page(request: AuthedRequest, name: str) -> HttpResponse:
    spec = _spec_for(request, name)
    user, org = request.user, request.org
    if not user.has_perm_cf(spec.permission):
        return _report_denied(request, spec, AuditAction.VIEW)
    error = None
    ctx = result = None
    try:
        ctx = build_context(spec, org=org, user=user, query=request.GET)
        result = run_report(spec, ctx)
    except DomainError as exc:
        error = exc.message
    chart = _chart_payload(spec, result.rows, result.currency) if result else None
    return render(
        request,
        "analytics/report.html",
        {
            "spec": spec,
            "ctx": ctx,
            "result": result,
            "error": error,
            "columns": spec.columns,
            "branches": report_branches(org=org),
            "chart_json": chart,
            "query": request.GET.urlencode(),
        },
        status=422 if error else 200,
    )


@require_perm("reports.view")
def report_export(request: AuthedRequest, name: str, fmt: str) -> HttpResponse:
    spec = _spec_for(request, name)
    user, org = request.user, request.org
    if not user.has_perm_cf(spec.permission):
        return _report_denied(request, spec, AuditAction.EXPORT)
    try:
        ctx = build_context(spec, org=org, user=user, query=request.GET)
    except DomainError as exc:
        return HttpResponse(exc.message, status=422, content_type="text/plain; charset=utf-8")
    result = run_report(spec, ctx)
    audit_record(
        org=org,
        actor=user,
        action=AuditAction.EXPORT,
        object_type="report",
        object_id=spec.name,
        request=request,
    )
    filename = f"{spec.name}_{ctx.date_from.isoformat()}_{ctx.date_to.isoformat()}"
    if fmt == "csv":
        response = HttpResponse(to_csv(spec, ctx, result), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(
            to_xlsx(spec, ctx, result),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404(_("Unknown export format"))
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


@require_perm("patients.view")
def home(request: AuthedRequest) -> HttpResponse:
    """The signed-in staff member's start page, by role (``clinicflow.analytics.home``)."""
    return home_page(request)


@require_perm("reports.capacity")
def capacity(request: AuthedRequest) -> HttpResponse:
    """The heat map (weekday × hour load) and per-doctor / per-room load of a branch, as HTML tables."""
    org = request.org
    branch = branch_from_request(request, org)
    d0, d1 = parse_period(request, timezone.now().astimezone(branch.tz).date())
    data = capacity_report.compute_load(org=org, branch=branch, date_from=d0, date_to=d1)
    heat = data.heatmap()
    return render_in_zone(
        request,
        "analytics/capacity.html",
        {
            "branch": branch,
            "branches": branch_list(org=org),
            "from": d0,
            "to": d1,
            "hours": heat["hours"],
            "heat": [(label, cells) for label, cells in heat["rows"]],
            "doctors": data.by_doctor(),
            "rooms": data.by_room(),
            "total": data.total(),
        },
    )
