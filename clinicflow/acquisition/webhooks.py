"""Inbound call webhooks: ``POST /hooks/calls/<provider>/<secret>``.

Order of checks: provider and secret (404, no hint) → body size (413) → content type (415) →
signature when the integration has a signing key (401, nothing written) → JSON/form parse (400) →
the provider's fields (422 naming the field) → idempotent upsert. Every 400/413/415/422 after a
valid secret is kept as a dead letter that staff can replay."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

from csp.decorators import csp_exempt
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from clinicflow.acquisition.ingestion import call_ingest
from clinicflow.acquisition.ingestion.dead_letters import dead_letter_store
from clinicflow.acquisition.ingestion.senders import integration_for
from clinicflow.acquisition.models import Integration
from clinicflow.acquisition.providers import PROVIDERS, PayloadError, SignatureError
from clinicflow.acquisition.providers.body import MAX_BODY, PayloadProblem, parse_body
from clinicflow.core.access import public_view
from clinicflow.core.errors import error_body

V = TypeVar("V", bound=Callable[..., HttpResponse])


def _no_csp(view: V) -> V:
    """No Content-Security-Policy header: the answers are JSON for machines, not pages (django-csp's
    decorator is typed for views that take only the request)."""
    return cast(V, csp_exempt()(cast(Any, view)))


def _error(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields), status=status)


CODES = {400: "bad_request", 413: "too_large", 415: "unsupported_media_type", 422: "validation_error"}


@csrf_exempt  # nosemgrep: csrf-exempt — URL secret and, where the provider signs, HMAC of the body
@_no_csp
@public_view
def call_webhook(request: HttpRequest, provider: str, secret: str) -> HttpResponse:
    if request.method != "POST":
        response = _error(405, "method_not_allowed", "use POST")
        response["Allow"] = "POST"
        return response
    spec = PROVIDERS.get(provider)
    integration = integration_for(provider, secret) if spec is not None else None
    if spec is None or integration is None:
        return _error(404, "not_found", "not found")
    headers: Mapping[str, str] = request.headers
    content_type = request.META.get("CONTENT_TYPE", "")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        dead_letter_store(
            integration=integration,
            http_status=413,
            error=f"body of {length} bytes is over the {MAX_BODY}-byte limit",
            content_type=content_type,
            headers=headers,
            body=b"",
            limit=MAX_BODY,
        )
        return _error(413, "too_large", f"the body may be at most {MAX_BODY} bytes")
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        dead_letter_store(
            integration=integration,
            http_status=413,
            error=f"body is over the {MAX_BODY}-byte limit",
            content_type=content_type,
            headers=headers,
            body=body,
            limit=MAX_BODY,
        )
        return _error(413, "too_large", f"the body may be at most {MAX_BODY} bytes")
    if integration.signing_key and spec.verify is not None:
        try:
            spec.verify(body, headers, integration.signing_key, timezone.now())
        except SignatureError as exc:
            return _error(401, "unauthorized", f"signature check failed: {exc}")
    try:
        payload = parse_body(body, content_type)
        try:
            event = spec.normalise(payload)
        except PayloadError as exc:
            return _dead(
                integration, 422, str(exc), content_type, headers, body, fields={exc.field: [exc.message]}
            )
    except PayloadProblem as exc:
        return _dead(integration, exc.status, exc.message, content_type, headers, body)
    result = call_ingest(
        org=integration.organization, integration=integration, provider=provider, event=event, payload=payload
    )
    return JsonResponse(
        {
            "id": str(result.call.pk),
            "provider_call_id": result.call.provider_call_id,
            "status": result.call.status,
            "created": result.created,
            "changed": result.changed,
        },
        status=201 if result.created else 200,
    )


def _dead(
    integration: Integration,
    status: int,
    message: str,
    content_type: str,
    headers: Mapping[str, str],
    body: bytes,
    fields: dict[str, list[str]] | None = None,
) -> JsonResponse:
    stored = dead_letter_store(
        integration=integration,
        http_status=status,
        error=message,
        content_type=content_type,
        headers=headers,
        body=body,
        limit=MAX_BODY,
    )
    response = _error(status, CODES.get(status, "bad_request"), message, fields)
    response["X-Dead-Letter"] = str(stored.pk)
    return response
