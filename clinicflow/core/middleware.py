from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from csp.constants import HEADER
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from clinicflow.core.uploads import is_disk_full


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


PRIVATE_NO_STORE = "private, no-store"  # set by views that serve a private file (clinical photos)


class SecurityHeadersMiddleware:
    """Headers Django does not set itself: no-store on staff pages and the API, Permissions-Policy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not request.path.startswith(CACHEABLE_PREFIXES)
            and response.get("Cache-Control") != PRIVATE_NO_STORE
        ):
            response["Cache-Control"] = "no-store"  # a private file's own "private, no-store" is kept
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


class ApiContentTypeMiddleware:
    """The JSON API accepts only JSON bodies: anything else is 415 with the error shape (file
    uploads, ``MULTIPART_PATHS``, take ``multipart/form-data`` instead)."""

    BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
    MULTIPART_PATHS = re.compile(r"^/api/v1/(patients/[^/]+/photos|imports)$")  # photo upload, file imports

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.path.startswith("/api/")
            and request.method in self.BODY_METHODS
            and request.META.get("CONTENT_LENGTH", "0") not in ("", "0")
            and request.content_type != "application/json"
            and not (
                request.content_type == "multipart/form-data" and self.MULTIPART_PATHS.match(request.path)
            )
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


# Paths answered in JSON (the API, the call webhooks, the tracking beacons); pages get HTML.
JSON_PREFIXES = ("/api/", "/hooks/", "/t/")
UNAVAILABLE_CSP = (
    "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_FAULT = "cf_fault"


def fault_of(exc: BaseException) -> str | None:
    """``"database"`` when the database could not be reached or the connection broke (PostgreSQL down
    or restarting, a terminated backend, SQLite locked), ``"disk"`` when the disk is full; else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OperationalError | InterfaceError):
            return "database"
        current = current.__cause__ or current.__context__
    return "disk" if is_disk_full(exc) else None


def _note_fault(sender: object, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Sent by Django while it turns an uncaught exception into a 500 (inside its ``except``)."""
    exc = sys.exc_info()[1]
    fault = fault_of(exc) if exc is not None else None
    if request is not None and fault is not None:
        setattr(request, _FAULT, fault)


got_request_exception.connect(_note_fault, dispatch_uid="clinicflow.core.middleware.note_fault")


class ServiceUnavailableMiddleware:
    """A request that failed because the database was unreachable (or the disk full) gets 503 with
    ``Retry-After``: a short page for people, the JSON error shape for the API, the call webhooks and
    the beacons; never the 500 page nor any detail of the error (pages and webhooks also with DEBUG
    on; django-ninja answers the API's own DEBUG traceback before Django sees it). Services write
    in transactions, so the failed request left nothing half-written; the traceback is logged as
    usual. Django closes the broken connection at the end of the request (and, with
    ``CONN_HEALTH_CHECKS``, checks a kept one before use), so the next request reconnects by itself.

    Early in MIDDLEWARE: every exception below it, in a view or in a middleware, reaches it as a
    500 response that Django marked via ``got_request_exception``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        fault = getattr(request, _FAULT, None)
        if fault is None or response.status_code != 500:
            return response
        return self.unavailable(request, response, fault)

    @staticmethod
    def unavailable(request: HttpRequest, failed: HttpResponse, fault: str) -> HttpResponse:
        retry_after = str(getattr(settings, "SERVICE_UNAVAILABLE_RETRY_AFTER", 30))
        # no request context: context processors would query the database that is down
        with translation.override(translation.get_language_from_request(request)):
            if request.path.startswith(JSON_PREFIXES):
                if fault == "disk":
                    message = _("The server's disk is full; nothing was saved. Please try again later.")
                else:
                    message = _("The service is unavailable; nothing was saved. Please try again later.")
                body = {"error": {"code": "service_unavailable", "message": message, "fields": {}}}
                response = HttpResponse(json.dumps(body), status=503, content_type="application/json")
            else:
                html = render_to_string("503.html", {"fault": fault, "retry_after": retry_after})
                response = HttpResponse(html, status=503)
                response[HEADER] = failed.get(HEADER, UNAVAILABLE_CSP)  # DEBUG's 500 page has none
        for name, value in failed.items():  # the security headers the failed response already got
            if name.lower() not in {"content-type", "content-length", "content-language", "vary"}:
                response.setdefault(name, value)
        response["Retry-After"] = retry_after
        response["Cache-Control"] = "no-store"
        return response
