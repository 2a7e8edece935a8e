"""CallRail webhooks (pre-call, call-completed / post-call, call-modified).

Payload fields used (CallRail API v3 call object): ``id``/``resource_id``, ``answered``,
``call_type`` (first_call, missed, voicemail, abandoned, ...), ``customer_phone_number``,
``tracking_phone_number``, ``business_phone_number``, ``start_time``, ``duration`` (seconds),
``recording``, ``agent_email``, ``source``, ``medium``, ``utm_source``, ``utm_medium``,
``utm_campaign``. A pre-call webhook has no ``answered``/``duration`` yet (status ringing).

Signing: CallRail sends ``Signature: base64(HMAC-SHA1(signing key, raw body))``; there is no
timestamp, so a replay can only repeat an already-stored event (the upsert is idempotent)."""

from __future__ import annotations

import base64
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
    boolean,
    first_text,
    integer,
    required_timestamp,
    text,
    url,
)

HEADER = "Signature"
MISSED_TYPES = {"missed", "voicemail", "abandoned", "voicemail_transcription"}


def sign(body: bytes, key: str) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha1).digest()).decode()


def verify(body: bytes, headers: Headers, key: str, now: dt.datetime) -> None:
    given = headers.get(HEADER, "").strip()
    if not given:
        raise SignatureError(f"missing {HEADER} header")
    if not given.isascii():
        raise SignatureError(f"malformed {HEADER} header")
    if not hmac.compare_digest(sign(body, key).encode(), given.encode()):
        raise SignatureError("signature does not match")


def normalise(payload: Mapping[str, Any]) -> CallEvent:
    call_id = first_text(payload, "id", "resource_id", max_len=100)
    if not call_id:
        raise PayloadError("id", "is required")
    started = required_timestamp(payload, "start_time")
    answered = boolean(payload, "answered")
    duration = integer(payload, "duration")
    call_type = text(payload, "call_type", max_len=40).lower()
    if answered is None and duration is None:
        status = "ringing"  # pre-call webhook
    elif answered is False or call_type in MISSED_TYPES:
        status = "missed"
    else:
        status = "completed"
    ended = started + dt.timedelta(seconds=duration) if started and duration is not None else None
    return CallEvent(
        provider_call_id=call_id,
        status=status,
        started_at=started,
        caller=text(payload, "customer_phone_number", required=True, max_len=40),
        called=first_text(payload, "tracking_phone_number", "business_phone_number", max_len=40),
        answered_at=started if status == "completed" else None,
        ended_at=ended,
        duration=duration,
        recording_url=url(payload, "recording"),
        administrator_email=text(payload, "agent_email", max_len=254).lower(),
        source=text(payload, "source", max_len=100),
        medium=text(payload, "medium", max_len=100),
        utm_source=text(payload, "utm_source", max_len=100),
        utm_medium=text(payload, "utm_medium", max_len=100),
        utm_campaign=first_text(payload, "utm_campaign", "campaign", max_len=200),
    )


SPEC = ProviderSpec(code="callrail", normalise=normalise, verify=verify, signature_header=HEADER)
