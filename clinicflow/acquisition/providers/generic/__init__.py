"""The documented generic JSON format (docs/webhooks.md).

Optional signing: when the integration has a signing key, the sender adds
``X-Clinicflow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``; requests
older or newer than five minutes are refused (a replayed signature)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from clinicflow.acquisition.providers.base import (
    CallEvent,
    Headers,
    PayloadError,
    ProviderSpec,
    SignatureError,
    first_text,
    integer,
    required_timestamp,
    text,
    timestamp,
    url,
)

HEADER = "X-Clinicflow-Signature"
TOLERANCE = dt.timedelta(minutes=5)
EVENTS = {"ringing": "ringing", "answered": "answered", "completed": "completed", "missed": "missed"}


def sign(body: bytes, key: str, at: dt.datetime) -> str:
    ts = str(int(at.timestamp()))
    mac = hmac.new(key.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def verify(body: bytes, headers: Headers, key: str, now: dt.datetime) -> None:
    header = headers.get(HEADER, "")
    if not header:
        raise SignatureError(f"missing {HEADER} header")
    if not header.isascii():  # compare_digest refuses non-ASCII str; int() takes other scripts' digits
        raise SignatureError(f"malformed {HEADER} header")
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    ts, given = parts.get("t", ""), parts.get("v1", "")
    if not ts.isdigit() or not given:
        raise SignatureError(f"malformed {HEADER} header")
    at = dt.datetime.fromtimestamp(int(ts), tz=dt.UTC) if len(ts) < 12 else None
    if at is None or abs(now - at) > TOLERANCE:
        raise SignatureError("signature timestamp outside the 5-minute tolerance")
    expected = hmac.new(key.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given):
        raise SignatureError("signature does not match")


def normalise(payload: Mapping[str, Any]) -> CallEvent:
    call_id = text(payload, "call_id", required=True, max_len=100)
    event = text(payload, "event", required=True, max_len=20).lower()
    if event not in EVENTS:
        raise PayloadError("event", f"must be one of {', '.join(EVENTS)}")
    caller = text(payload, "caller", required=True, max_len=40)
    return CallEvent(
        provider_call_id=call_id,
        status=EVENTS[event],
        started_at=required_timestamp(payload, "started_at"),
        caller=caller,
        called=text(payload, "called", required=True, max_len=40),
        answered_at=timestamp(payload, "answered_at"),
        ended_at=timestamp(payload, "ended_at"),
        duration=integer(payload, "duration"),
        recording_url=url(payload, "recording_url"),
        administrator_email=text(payload, "administrator_email", max_len=254).lower(),
        utm_source=text(payload, "utm_source", max_len=100),
        utm_medium=text(payload, "utm_medium", max_len=100),
        utm_campaign=text(payload, "utm_campaign", max_len=200),
        client_id=first_text(payload, "client_id", max_len=64),
    )


SPEC = ProviderSpec(code="generic", normalise=normalise, verify=verify, signature_header=HEADER)
