"""Inbound call webhooks: ``POST /hooks/calls/<provider>/<secret>``.

Order of checks: provider and secret (404, no hint) → body size (413) → content type (415) →
signature when the integration has a signing key (401, nothing written) → JSON/form parse (400) →
the provider's fields (422 naming the field) → idempotent upsert. Every 400/413/415/422 after a
valid secret is kept as a dead letter that staff can replay."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from clinicflow.acquisition.models import Integration, hash_secret
from clinicflow.acquisition.providers import PROVIDERS, PayloadError, SignatureError
from clinicflow.acquisition.services import call_ingest, dead_letter_store
from clinicflow.core.access import public_view
from clinicflow.core.errors import error_body

MAX_BODY = 256 * 1024
JSON_TYPES = ("application/json", "text/json")
FORM_TYPES = ("application/x-www-form-urlencoded",)
_CACHE_TTL = 30.0
_cache: dict[tuple[str, str], tuple[float, Integration | None]] = {}


class PayloadProblem(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def integration_for(provider: str, secret: str) -> Integration | None:
    """The active integration behind a URL secret (looked up by SHA-256; cached briefly per process)."""
    if len(secret) < 20 or len(secret) > 100:
        return None
    key = (provider, hash_secret(secret))
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < _CACHE_TTL:
        return hit[1]
    row = (
        Integration.objects.select_related("organization", "branch")
        .filter(secret_hash=key[1], provider=provider, is_active=True)
        .first()
    )
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[key] = (now, row)
    return row


def clear_cache() -> None:
    _cache.clear()


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    kind = media_type(content_type)
    if kind in JSON_TYPES:
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PayloadProblem(400, f"invalid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise PayloadProblem(400, "the JSON body must be an object")
        return data
    if kind in FORM_TYPES:
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError as exc:
            raise PayloadProblem(400, "the form body is not UTF-8") from exc
        return dict(pairs)
    raise PayloadProblem(415, "Content-Type must be application/json or application/x-www-form-urlencoded")


def _error(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields), status=status)


CODES = {400: "bad_request", 413: "too_large", 415: "unsupported_media_type", 422: "validation_error"}


@csrf_exempt  # authenticated by the URL secret and, where the provider signs, an HMAC over the raw body
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
