"""The scorecards page (``/analytics/owner/scorecards/``): each department's score, its parts with their
values, weights and scores, and its trend; the owner edits the weights on the same page."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render

from clinicflow.accounts.access import AuthedRequest, require_perm
from clinicflow.analytics.owner.scorecards import scorecards
from clinicflow.analytics.owner.services import scorecard_weights_set
from clinicflow.analytics.reports.base import build_context, get_report
from clinicflow.analytics.selectors import report_branches
from clinicflow.core.errors import DomainError


@require_perm("reports.owner")
def scorecards_page(request: AuthedRequest) -> HttpResponse:
    error = None
    if request.method == "POST":
        weights = {k[2:]: v for k, v in request.POST.items() if k.startswith("w:")}
        try:
            scorecard_weights_set(org=request.org, actor=request.user, weights=weights)
            return redirect(f"{request.path}?{request.GET.urlencode()}")
        except DomainError as exc:
            error = exc.message
    cards = None
    ctx = None
    try:
        ctx = build_context(get_report("scorecards"), org=request.org, user=request.user, query=request.GET)
        cards = scorecards(org=request.org, date_from=ctx.date_from, date_to=ctx.date_to, branch=ctx.branch)
    except DomainError as exc:
        error = exc.message
    return render(
        request,
        "analytics/owner/scorecards.html",
        {
            "ctx": ctx,
            "cards": cards,
            "error": error,
            "branches": report_branches(org=request.org),
            "query": request.GET.urlencode(),
        },
        status=422 if error else 200,
    )
