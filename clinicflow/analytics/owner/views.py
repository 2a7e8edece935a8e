"""The owner home page (``/analytics/owner/``; ``/`` for owners and managers once routed): the figures
as tiles linking to their reports, each with what it counts as a tooltip, and the lifecycle funnel
with the step that fell most against the previous period highlighted."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

import clinicflow.analytics.reports.owner  # noqa: F401 - registers the owner's reports
from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.analytics.owner.home import OwnerView, owner_view
from clinicflow.analytics.reports.base import ReportContext, build_context, get_report
from clinicflow.analytics.selectors import report_branches
from clinicflow.core.errors import DomainError


@require_perm("reports.owner")
def owner_page(request: AuthedRequest) -> HttpResponse:
    spec = get_report("owner_home")
    error = None
    ctx: ReportContext | None = None
    view: OwnerView | None = None
    try:
        ctx = build_context(spec, org=request.org, user=request.user, query=request.GET)
        view = owner_view(org=request.org, date_from=ctx.date_from, date_to=ctx.date_to, branch=ctx.branch)
    except DomainError as exc:
        error = exc.message
    return render(
        request,
        "analytics/owner/home.html",
        {
            "ctx": ctx,
            "view": view,
            "error": error,
            "branches": report_branches(org=request.org),
            "query": request.GET.urlencode(),
        },
        status=422 if error else 200,
    )
