"""Public marketing links (no login): unsubscribe (a page, then one POST that takes effect at once) and
the offer link (counts the click, opens the booking page on the campaign's service)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from clinicflow.core import ratelimit
from clinicflow.core.access import public_view
from clinicflow.core.net import client_ip
from clinicflow.marketing import links
from clinicflow.marketing.services.unsubscribe import offer_click, unsubscribe

PER_IP = (60, 600)


def _page(request: HttpRequest, state: str, token: str = "", status: int = 200) -> HttpResponse:
    response = render(
        request, "marketing/public/unsubscribe.html", {"state": state, "token": token}, status=status
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"  # no-referrer makes the form POST Origin: null (CSRF)
    return response


@public_view
@require_http_methods(["GET", "POST"])
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    if not ratelimit.hit(f"mkt:unsub:{client_ip(request) or '-'}", *PER_IP):
        return _page(request, "throttled", status=429)
    if links.read(links.SALT_UNSUBSCRIBE, token) is None:
        return _page(request, "invalid", status=404)
    if request.method == "GET":
        return _page(request, "ask", token)
    if not unsubscribe(token=token):
        return _page(request, "invalid", status=404)
    return _page(request, "done")


@public_view
@require_http_methods(["GET"])
def offer_page(request: HttpRequest, token: str) -> HttpResponse:
    if not ratelimit.hit(f"mkt:offer:{client_ip(request) or '-'}", *PER_IP):
        return _page(request, "throttled", status=429)
    path = offer_click(token=token)
    if path is None:
        return _page(request, "invalid", status=404)
    return HttpResponseRedirect(path)
