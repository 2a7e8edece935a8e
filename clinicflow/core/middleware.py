from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from csp.constants import HEADER
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed


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


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware without rebuilding an unchanging policy on every response.

    The policy is static (no nonces, no per-view overrides but ``@csp_exempt``), so the header is built
    once per process; a response that is exempt from both policies (the call-tracking webhooks) skips
    the work altogether. Anything else — a nonce requested, a per-view update — takes django-csp's path.
    """

    _static_header: str | None = None

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if not self._is_static(request, response):
            return super().process_response(request, response)
        if getattr(response, "_csp_exempt", False) or HEADER in response:
            return response
        if ContentSecurityPolicyMiddleware._static_header is None:
            parts = self.get_policy_parts(request=request, response=response)
            ContentSecurityPolicyMiddleware._static_header = build_policy(**asdict(parts))
        if ContentSecurityPolicyMiddleware._static_header:
            response[HEADER] = ContentSecurityPolicyMiddleware._static_header
        return response

    @staticmethod
    def _is_static(request: HttpRequest, response: HttpResponseBase) -> bool:
        """No nonce, no per-response or report-only policy, no debug pages: the header is the settings'."""
        overrides = ("_csp_config", "_csp_update", "_csp_replace")
        return (
            not settings.DEBUG
            and getattr(request, "_csp_nonce", None) is None
            and not any(getattr(response, name, None) for name in overrides)
            and not getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
            and not getattr(settings, "CONTENT_SECURITY_POLICY", {}).get("EXCLUDE_URL_PREFIXES")
        )


PAGE_METHODS = ("GET", "HEAD", "POST")
PREFLIGHT_PATHS = ("/t/session", "/t/lead")  # cross-origin beacons answer their CORS preflight


class PageMethodsMiddleware:
    """405 for any method a page does not declare (TRACE, PUT, DELETE, ...), before the view runs.

    Pages are forms and links: GET, HEAD and POST. The API declares its own methods (django-ninja
    answers 405 itself); the tracking beacons also answer OPTIONS. Last in MIDDLEWARE, so the answer
    carries the security headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        method = request.method or ""
        if (
            method not in PAGE_METHODS
            and not request.path.startswith("/api/")
            and not (method == "OPTIONS" and request.path in PREFLIGHT_PATHS)
        ):
            return HttpResponseNotAllowed(PAGE_METHODS)
        return self.get_response(request)
