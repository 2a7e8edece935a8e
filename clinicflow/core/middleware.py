from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class TenantMiddleware:
    """Attach the signed-in user's organisation as ``request.org`` (None when anonymous)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        org = user.organization if user is not None and user.is_authenticated else None
        request.org = org  # type: ignore[attr-defined]  # declared on accounts.access.AuthedRequest, not HttpRequest
        return self.get_response(request)


# Public, non-personal assets that may be cached (the website tracking script sets its own max-age).
CACHEABLE_PREFIXES = ("/static/", "/t/cf.js")


class SecurityHeadersMiddleware:
    """Headers Django does not set itself: no-store on staff pages and the API, Permissions-Policy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(CACHEABLE_PREFIXES):
            response["Cache-Control"] = "no-store"
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


class ApiContentTypeMiddleware:
    """The JSON API accepts only JSON bodies: anything else is 415 with the error shape."""

    BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.path.startswith("/api/")
            and request.method in self.BODY_METHODS
            and request.META.get("CONTENT_LENGTH", "0") not in ("", "0")
            and request.content_type != "application/json"
        ):
            return HttpResponse(
                b'{"error": {"code": "unsupported_media_type", "message": "send a JSON body with '
                b'Content-Type: application/json", "fields": {}}}',
                status=415,
                content_type="application/json",
            )
        return self.get_response(request)
