"""The public survey page ``/s/<token>/``: no login. Nothing about the patient or the clinic is shown
before the token is found and valid; unknown and expired tokens get the same clear page. Requests are
rate limited per IP address (and failed look-ups more strictly), counted in the shared cache."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_http_methods

from clinicflow.core import ratelimit
from clinicflow.core.access import public_view
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.net import client_ip
from clinicflow.core.web import render_in_zone
from clinicflow.feedback.models import Survey
from clinicflow.feedback.selectors import settings as settings_sel
from clinicflow.feedback.selectors import surveys as selectors
from clinicflow.feedback.services.answers import Answered, answer_submit, is_promoter
from clinicflow.feedback.services.surveys import token_hash

PER_IP = (60, 600)  # requests per IP address per 10 minutes
MISSES_PER_IP = (10, 600)  # unknown tokens per IP address per 10 minutes
MAX_TOKEN = 64


def _throttled(request: HttpRequest) -> bool:
    ip = client_ip(request) or "-"
    return not ratelimit.hit(f"survey:ip:{ip}", *PER_IP)


def _missed(request: HttpRequest) -> bool:
    """Count a failed look-up; True once the IP address failed too often (then even a right token
    waits for the window to pass)."""
    ip = client_ip(request) or "-"
    return not ratelimit.hit(f"survey:miss:{ip}", *MISSES_PER_IP)


def _closed(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    response = render_in_zone(request, "feedback/public/closed.html", {"reason": reason}, status=status)
    if status == 429:
        response["Retry-After"] = "600"
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"  # no-referrer makes the form POST Origin: null (CSRF)
    return response


def _page(request: HttpRequest, survey: Survey, ctx: dict[str, Any], status: int = 200) -> HttpResponse:
    org = survey.organization
    ctx = {
        "survey": survey,
        "clinic": org.display_name,
        "branch": survey.branch,
        "tags": settings_sel.tag_list(org=org, active_only=True),
        "nps_scale": range(0, 11),
        "result_scale": range(0, 11),
        "csat_scale": range(1, 6),
        **ctx,
    }
    response = render_in_zone(request, "feedback/public/survey.html", ctx, status=status)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"  # no-referrer makes the form POST Origin: null (CSRF)
    return response


def _thanks(request: HttpRequest, survey: Survey, answered: Answered) -> HttpResponse:
    org = survey.organization
    links = (
        settings_sel.review_links(org=org, branch=survey.branch) if is_promoter(answered.answer.nps) else []
    )
    ctx = {"clinic": org.display_name, "first": answered.first, "links": links}
    response = render_in_zone(request, "feedback/public/thanks.html", ctx)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"  # no-referrer makes the form POST Origin: null (CSRF)
    return response


@public_view
@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    """The survey: NPS 0-10, CSAT 1-5, the result against the expectation 0-10, what could be better,
    a comment. The first answer is kept; a second submission is told so."""
    if _throttled(request):
        return _closed(request, "throttled", 429)
    survey = selectors.survey_by_token_hash(token_hash(token)) if 0 < len(token) <= MAX_TOKEN else None
    if survey is None:
        if _missed(request):
            return _closed(request, "throttled", 429)
        return _closed(request, "unknown", 404)
    with translation.override(survey.language):
        org = survey.organization
        if survey.answered_at is not None:
            first = selectors.answer_of(org=org, survey=survey)
            if first is not None:
                return _thanks(request, survey, Answered(first, first=False))
        if survey.is_expired():
            return _closed(
                request, "expired", 404
            )  # SECURITY CR-04: an expired token is a 404 (a clear page)
        if request.method != "POST":
            return _page(request, survey, {"values": {}})
        data: dict[str, Any] = {
            "nps": request.POST.get("nps"),
            "csat": request.POST.get("csat"),
            "result": request.POST.get("result"),
            "tags": request.POST.getlist("tags"),
            "comment": request.POST.get("comment", ""),
        }
        try:
            answered = answer_submit(org=org, survey=survey, data=data)
        except ValidationFailed as exc:
            return _page(request, survey, {"values": data, "errors": exc.fields}, status=422)
        return _thanks(request, survey, answered)
