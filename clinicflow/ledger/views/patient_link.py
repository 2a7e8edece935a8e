"""The patient's own page ``/my/<token>/``: no login. Balances, memberships with the benefits left,
points with their expiry and the referral link, in the patient's language. The token (128 random
bits) is found by its SHA-256; unknown and expired tokens get the same clear page (404). Requests are
rate limited per IP address, and failed look-ups more strictly (as the survey link)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils import translation
from django.views.decorators.http import require_GET

from clinicflow.core import ratelimit
from clinicflow.core.access import public_view
from clinicflow.core.net import client_ip
from clinicflow.core.web import render_in_zone
from clinicflow.ledger.selectors.loyalty import points_of, referral_url
from clinicflow.ledger.selectors.memberships import patient_memberships
from clinicflow.ledger.selectors.wallet import wallet_get
from clinicflow.ledger.services.patient_links import link_by_token
from clinicflow.ledger.services.referrals import referral_code_for

OPEN = ("active", "frozen", "not_started")
PER_IP = (60, 600)  # requests per IP address per 10 minutes
MISSES_PER_IP = (10, 600)  # unknown tokens per IP address per 10 minutes


def _closed(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    response = render_in_zone(request, "ledger/public/closed.html", {"reason": reason}, status=status)
    if status == 429:
        response["Retry-After"] = "600"
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = (
        "same-origin"  # the token never leaves the site; no-referrer breaks CSRF (Origin: null)
    )
    return response


@public_view
@require_GET
def my_page(request: HttpRequest, token: str) -> HttpResponse:
    ip = client_ip(request) or "-"
    if not ratelimit.hit(f"mypage:ip:{ip}", *PER_IP):
        return _closed(request, "throttled", 429)
    link = link_by_token(token)
    if link is None:
        if not ratelimit.hit(f"mypage:miss:{ip}", *MISSES_PER_IP):
            return _closed(request, "throttled", 429)
        return _closed(request, "unknown", 404)
    patient, org = link.patient, link.organization
    with translation.override(patient.preferred_language or "en"):
        if link.is_expired():
            return _closed(request, "expired", 404)
        code = referral_code_for(org=org, patient=patient)
        ctx = {
            "clinic": org.display_name,
            "patient": patient,
            "wallet": wallet_get(org=org, patient=patient),
            "memberships": [
                v
                for v in patient_memberships(org=org, patient=patient)
                if v.state not in ("cancelled", "ended")
            ],
            "points": points_of(org=org, patient=patient),
            "referral": referral_url(patient, code.code),
            "code": code.code,
        }
        response = render_in_zone(request, "ledger/public/my.html", ctx, branch=patient.branch)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = (
        "same-origin"  # the token never leaves the site; no-referrer breaks CSRF (Origin: null)
    )
    return response


paths: list[URLPattern] = [path("my/<str:token>/", my_page, name="ledger_patient_page")]
