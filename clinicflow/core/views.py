"""Pages every installation has: the root redirect, the health check and the error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import loader

from clinicflow.core.access import public_view


@public_view
def index(request: HttpRequest) -> HttpResponse:
    """The start: owners and managers land on the owner's view (where patients and money are lost),
    everyone else on their role's home."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if getattr(request.user, "role", "") in ("owner", "manager"):
        return redirect("analytics:owner_home")
    return redirect("home")


@public_view
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@public_view
def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return HttpResponse(
            b'{"error": {"code": "not_found", "message": "not found", "fields": {}}}',
            status=404,
            content_type="application/json",
        )
    return render(request, "404.html", status=404)


@public_view
def server_error(request: HttpRequest) -> HttpResponse:
    return HttpResponse(loader.get_template("500.html").render(), status=500)
