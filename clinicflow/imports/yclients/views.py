"""``POST /hooks/yclients/<secret>``: YCLIENTS's client and record change webhooks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar, cast

from csp.decorators import csp_exempt
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from clinicflow.core import ratelimit
from clinicflow.core.access import public_view
from clinicflow.core.errors import error_body
from clinicflow.imports.engine.clean import RowProblem
from clinicflow.imports.yclients.services import link_for, webhook_apply

V = TypeVar("V", bound=Callable[..., HttpResponse])
MAX_BODY = 256 * 1024
RATE = (600, 60)  # events per link per minute


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status)


def _no_csp(view: V) -> V:
    """No Content-Security-Policy header: the answers are JSON for machines, not pages."""
    return cast(V, csp_exempt()(cast(Any, view)))


@csrf_exempt  # nosemgrep: csrf-exempt — a machine endpoint authenticated by the per-organisation URL secret
@_no_csp
@public_view
def yclients_webhook(request: HttpRequest, secret: str) -> HttpResponse:
    if request.method != "POST":
        response = _error(405, "method_not_allowed", "use POST")
        response["Allow"] = "POST"
        return response
    link = link_for(secret)
    if link is None:
        return _error(404, "not_found", "not found")
    if not ratelimit.hit(f"yclients:{link.pk}", *RATE):
        return _error(429, "rate_limited", "too many events; retry later")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        return _error(413, "too_large", "the body is too large")
    if request.content_type != "application/json":
        return _error(415, "unsupported_media_type", "send JSON")
    try:
        payload: Any = json.loads(request.body)
    except ValueError:
        return _error(400, "bad_request", "the body is not JSON")
    if not isinstance(payload, dict):
        return _error(400, "bad_request", "the body is not a JSON object")
    try:
        outcome = webhook_apply(link=link, payload=payload)
    except RowProblem as exc:
        return JsonResponse(error_body("validation_error", str(exc), {exc.field: [exc.problem]}), status=422)
    return JsonResponse({"ok": True, "result": outcome})
