"""The one REST API (django-ninja) under /api/v1/, with a router per app."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from clinicflow.accounts.api import router as auth_router
from clinicflow.accounts.api_auth import TokenAuth
from clinicflow.acquisition.api import router as acquisition_router
from clinicflow.analytics.api import router as reports_router
from clinicflow.analytics.home.views import router as home_router
from clinicflow.analytics.owner.alerts_api import router as alerts_router
from clinicflow.analytics.pricing.api import router as whatif_router
from clinicflow.booking.api import router as booking_router
from clinicflow.booking.selectors.catalogue import services_offered_at
from clinicflow.care.api import router as care_router
from clinicflow.catalogue.api import build_router as catalogue_router
from clinicflow.clinical.api import router as clinical_router
from clinicflow.core.errors import DomainError, error_body
from clinicflow.feedback.api import router as feedback_router
from clinicflow.imports.api import router as imports_router
from clinicflow.ledger.api import router as ledger_router
from clinicflow.marketing.api import router as marketing_router
from clinicflow.messaging.api import router as messaging_router
from clinicflow.patients.api import router as patients_router
from clinicflow.privacy.api import router as privacy_router
from clinicflow.webhooks.api import router as webhooks_router

api = NinjaAPI(
    title="Clinicflow API",
    version="1",
    description="Clinicflow REST API. Authenticate with `POST /api/v1/auth/token`, then send "
    '`Authorization: Bearer <token>`. Errors share one shape: `{"error": {"code", "message", "fields"}}`.',
    auth=TokenAuth(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)

api.add_router("/auth", auth_router)
api.add_router("/patients", patients_router)
api.add_router("/reports", reports_router)
api.add_router("/home", home_router)
api.add_router("/whatif", whatif_router)
# Domain routers declare full paths inside their module (e.g. "/calls", "/slots", "/appointments").
# The catalogue owns /services; which services a branch offers is booking's rule, handed in here.
api.add_router("", catalogue_router(offered_at=services_offered_at))
api.add_router("", booking_router)
api.add_router("", acquisition_router)
api.add_router("", messaging_router)
api.add_router("/privacy", privacy_router)
api.add_router("", clinical_router)
api.add_router("", ledger_router)
api.add_router("", care_router)
api.add_router("", feedback_router)
api.add_router("", imports_router)
api.add_router("", marketing_router)
api.add_router("", webhooks_router)
api.add_router("", alerts_router)


def _json(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    return api.create_response(request, body, status=status)


def _loc_name(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "form", "header", "cookie")]
    if parts and parts[0] in ("data", "filters", "params") and len(parts) > 1:
        parts = parts[1:]
    name = ""
    for p in parts:
        name = f"{name}[{p}]" if p.isdigit() else (f"{name}.{p}" if name else p)
    return name or "body"


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        fields.setdefault(_loc_name(err.get("loc", ())), []).append(str(err.get("msg", "invalid")))
    first = next(iter(fields.items()), ("body", ["invalid"]))
    return _json(request, 422, error_body("validation_error", f"{first[0]}: {first[1][0]}", fields))


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _json(request, 401, error_body("unauthorized", "missing, invalid or expired token"))


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _json(request, exc.status, exc.as_dict())


@api.exception_handler(Http404)
def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _json(request, 404, error_body("not_found", "not found"))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    codes = {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "too_large",
        415: "unsupported_media_type",
        422: "validation_error",
        429: "too_many_requests",
    }
    return _json(request, exc.status_code, error_body(codes.get(exc.status_code, "error"), str(exc)))
