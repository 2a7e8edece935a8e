"""The website tracking script and its JSON endpoints (cross-origin, public, rate- and size-limited).

``GET /t/cf.js`` serves the script; ``POST /t/session`` records a page view and returns the number
held for the visit; ``POST /t/lead`` stores a web-form lead. The organisation comes from the public
key in the script tag (``data-key``). CORS is answered for these endpoints only: the origin must be
in the organisation's allowed origins (any origin while that list is empty)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from clinicflow.acquisition.models import TrackingSettings
from clinicflow.acquisition.tracking.selectors import settings_for_key, web_session_for_lead
from clinicflow.acquisition.tracking.services import SessionInput, lead_create, session_touch
from clinicflow.core.access import public_view
from clinicflow.core.errors import ValidationFailed, error_body
from clinicflow.core.net import client_ip
from clinicflow.core.phones import display

SCRIPT_PATH = Path(__file__).parent.parent / "static" / "acquisition" / "cf.js"
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
    row = settings_for_key(key=key)
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
    ip = client_ip(request) or ""
    bucket = int(time.time() // 60)
    key = f"cf-t:{kind}:{ip}:{bucket}"
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, 90)
        count = 1
    return count > LIMITS[kind][1]


@dataclass(frozen=True)
class _Accepted:
    """A beacon that passed every check: its JSON object, the key's settings, the page's origin."""

    data: dict[str, Any]
    cfg: TrackingSettings
    origin: str


def _body(kind: str, request: HttpRequest, origin: str) -> bytes | HttpResponse:
    """The raw body, if its size, type and the sender's rate are within the limits."""
    max_bytes = LIMITS[kind][0]
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    too_large = _fail(413, "too_large", f"the body may be at most {max_bytes} bytes", origin)
    if length > max_bytes:
        return too_large
    content_type = request.META.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if content_type not in ("text/plain", "application/json"):
        return _fail(415, "unsupported_media_type", "send JSON as text/plain or application/json", origin)
    if _rate_limited(kind, request):
        return _fail(429, "too_many_requests", "too many requests, slow down", origin)
    body = request.read(max_bytes + 1)
    return too_large if len(body) > max_bytes else body


def _read(kind: str, request: HttpRequest) -> _Accepted | HttpResponse:
    """Answer the preflight and wrong methods; check the body, the key and the page's origin."""
    origin = request.headers.get("Origin", "")[:200]
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), origin)
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST, OPTIONS"})
    body = _body(kind, request, origin)
    if isinstance(body, HttpResponse):
        return body
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # also too deep, or an integer of over 4300 digits
        return _fail(400, "bad_request", "invalid JSON", origin)
    if not isinstance(data, dict):
        return _fail(400, "bad_request", "the JSON body must be an object", origin)
    cfg = _settings_for(str(data.get("k", "")))
    if cfg is None:
        return _fail(404, "not_found", "not found", origin)
    allowed = cfg.origins()
    if allowed and origin.rstrip("/") not in allowed:
        return _fail(403, "forbidden", "this website is not allowed for the key", "")
    return _Accepted(data=data, cfg=cfg, origin=origin)


def _s(data: dict[str, Any], name: str, limit: int) -> str:
    """The field as text of at most ``limit`` characters, without NUL or unpaired surrogates (which
    PostgreSQL cannot store); "" for anything but a string or an integer."""
    value = data.get(name, "")
    if not isinstance(value, str | int) or isinstance(value, bool):
        return ""
    text = str(value)[:limit]
    return text if text.isascii() and "\x00" not in text else _UNSTORABLE.sub("", text)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@csrf_exempt  # nosemgrep: csrf-exempt — cross-origin beacon, no cookies, no staff session involved
@public_view
def session_view(request: HttpRequest) -> HttpResponse:
    accepted = _read("session", request)
    if isinstance(accepted, HttpResponse):
        return accepted
    data, cfg, origin = accepted.data, accepted.cfg, accepted.origin
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
        client_ip=client_ip(request) or "",
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


@csrf_exempt  # nosemgrep: csrf-exempt — cross-origin form post, no cookies; rate- and size-limited
@public_view
def lead_view(request: HttpRequest) -> HttpResponse:
    accepted = _read("lead", request)
    if isinstance(accepted, HttpResponse):
        return accepted
    data, cfg, origin = accepted.data, accepted.cfg, accepted.origin
    org = cfg.organization
    sid = _s(data, "sid", 40)
    session = web_session_for_lead(org=org, session_id=sid, client_id=_s(data, "cid", 64)) if sid else None
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
