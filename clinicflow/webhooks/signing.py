"""Delivery signatures, in the manner of Stripe's: the header

    Clinicflow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body, compares in constant time,
and rejects a timestamp older than its tolerance (5 minutes is suggested) against replays."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

HEADER = "Clinicflow-Signature"
TOLERANCE = 300


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header_value(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret, t, body)}"


def verify(
    secret: str, header: str, body: bytes, *, now: int | None = None, tolerance: int = TOLERANCE
) -> bool:
    """What a receiver does: True when the header signs ``body`` with ``secret`` recently enough."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((int(time.time()) if now is None else now) - t) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, t, body))
