from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class TenantMiddleware:
    """Attach the signed-in user's organisation as ``request.org`` (None when anonymous)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        request.org = user.organization if user is not None and user.is_authenticated else None  # type: ignore[attr-defined,union-attr]
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Headers Django does not set itself: no-store on staff pages and the API, Permissions-Policy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store"
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response
