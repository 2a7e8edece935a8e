"""The website tracking script and its JSON endpoints (cross-origin, public, rate- and size-limited).

``GET /t/cf.js`` serves the script; ``POST /t/session`` records a page view and returns the number
held for the visit; ``POST /t/lead`` stores a web-form lead. The organisation comes from the public
key in the script tag (``data-key``). CORS is answered for these endpoints only: the origin must be
in the organisation's allowed origins (any origin while that list is empty)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from clinicflow.acquisition.models import TrackingSettings, WebSession
from clinicflow.acquisition.services import SessionInput, lead_create, session_touch
from clinicflow.core.access import public_view
from clinicflow.core.errors import ValidationFailed, error_body
from clinicflow.core.phones import display

SCRIPT_PATH = Path(__file__).parent / "static" / "acquisition" / "cf.js"
LIMITS = {"session": (8 * 1024, 120), "lead": (16 * 1024, 10)}  # body bytes, requests per minute per IP
_settings_cache: dict[str, tuple[float, TrackingSettings | None]] = {}


@public_view
def script(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    response = HttpResponse(SCRIPT_PATH.read_bytes(), content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _settings_for(key: str) -> TrackingSettings | None:
    if not key or len(key) > 40:
        return None
    now = time.monotonic()
    hit = _settings_cache.get(key)
    if hit is not None and now - hit[0] < 30:
        return hit[1]
    row = (
        TrackingSettings.objects.select_related("organization", "default_branch")
        .filter(public_key=key)
        .first()
    )
    if len(_settings_cache) > 10_000:
        _settings_cache.clear()
    _settings_cache[key] = (now, row)
    return row


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "600"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def _fail(
    status: int, code: str, message: str, origin: str, fields: dict[str, list[str]] | None = None
) -> HttpResponse:
    return _cors(JsonResponse(error_body(code, message, fields), status=status), origin)


def _rate_limited(kind: str, request: HttpRequest) -> bool:
    ip = request.META.get("REMOTE_ADDR", "")
    bucket = int(time.time() // 60)
    key = f"cf-t:{kind}:{ip}:{bucket}"
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, 90)
        count = 1
    return count > LIMITS[kind][1]


def _read(
    kind: str, request: HttpRequest
) -> tuple[dict[str, Any] | None, HttpResponse | None, TrackingSettings | None]:
    origin = request.headers.get("Origin", "")[:200]
    max_bytes = LIMITS[kind][0]
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > max_bytes:
        return None, _fail(413, "too_large", f"the body may be at most {max_bytes} bytes", origin), None
    content_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if content_type not in ("text/plain", "application/json"):
        return (
            None,
            _fail(415, "unsupported_media_type", "send JSON as text/plain or application/json", origin),
            None,
        )
    if _rate_limited(kind, request):
        return None, _fail(429, "too_many_requests", "too many requests, slow down", origin), None
    body = request.read(max_bytes + 1)
    if len(body) > max_bytes:
        return None, _fail(413, "too_large", f"the body may be at most {max_bytes} bytes", origin), None
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, _fail(400, "bad_request", "invalid JSON", origin), None
    if not isinstance(data, dict):
        return None, _fail(400, "bad_request", "the JSON body must be an object", origin), None
    cfg = _settings_for(str(data.get("k", "")))
    if cfg is None:
        return None, _fail(404, "not_found", "not found", origin), None
    allowed = cfg.origins()
    if allowed and origin.rstrip("/") not in allowed:
        return None, _fail(403, "forbidden", "this website is not allowed for the key", ""), None
    return data, None, cfg


def _s(data: dict[str, Any], name: str, limit: int) -> str:
    value = data.get(name, "")
    return str(value)[:limit] if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _preflight(request: HttpRequest) -> HttpResponse:
    return _cors(HttpResponse(status=204), request.headers.get("Origin", "")[:200])


@csrf_exempt  # cross-origin beacon from the clinic's website; no cookies, no staff session involved
@public_view
def session_view(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _preflight(request)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST, OPTIONS"})
    data, problem, cfg = _read("session", request)
    if problem is not None or data is None or cfg is None:
        return problem or HttpResponse(status=400)
    origin = request.headers.get("Origin", "")[:200]
    cid = _s(data, "cid", 64)
    if not cid:
        return _fail(422, "validation_error", "cid: is required", origin, {"cid": ["is required"]})
    session = session_touch(
        org=cfg.organization,
        data=SessionInput(
            client_id=cid,
            url=_s(data, "url", 500),
            referrer=_s(data, "ref", 500),
            utm_source=_s(data, "utm_source", 100),
            utm_medium=_s(data, "utm_medium", 100),
            utm_campaign=_s(data, "utm_campaign", 200),
            utm_content=_s(data, "utm_content", 200),
            utm_term=_s(data, "utm_term", 200),
            gclid=_s(data, "gclid", 200),
            yclid=_s(data, "yclid", 200),
            branch=_s(data, "branch", 60),
        ),
    )
    number = session.number.e164 if session.number_id and session.number else ""
    return _cors(
        JsonResponse(
            {
                "sid": str(session.pk),
                "number": number,
                "display": display(number) if number else "",
                "held_until": session.held_until.isoformat() if session.held_until else None,
            }
        ),
        origin,
    )


@csrf_exempt  # cross-origin form post from the clinic's website; rate- and size-limited
@public_view
def lead_view(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _preflight(request)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST, OPTIONS"})
    data, problem, cfg = _read("lead", request)
    if problem is not None or data is None or cfg is None:
        return problem or HttpResponse(status=400)
    origin = request.headers.get("Origin", "")[:200]
    org = cfg.organization
    session = None
    sid = _s(data, "sid", 40)
    cid = _s(data, "cid", 64)
    if sid:
        from clinicflow.core.selectors import parse_uuid

        pk = parse_uuid(sid)
        session = WebSession.objects.for_org(org).filter(pk=pk, client_id=cid).first() if pk else None
    try:
        lead = lead_create(
            org=org,
            session=session,
            name=_s(data, "name", 200),
            phone=_s(data, "phone", 40),
            email=_s(data, "email", 254),
            message=_s(data, "message", 5000),
            page_url=_s(data, "url", 500),
        )
    except ValidationFailed as exc:
        return _cors(JsonResponse(exc.as_dict(), status=422), origin)
    return _cors(JsonResponse({"id": str(lead.pk)}, status=201), origin)
