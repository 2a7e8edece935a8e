"""The internal call event every provider payload is normalised into, and parsing helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.dateparse import parse_datetime


class PayloadError(ValueError):
    """The payload is malformed; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SignatureError(ValueError):
    """Missing, invalid or stale signature."""


STATUSES = ("ringing", "answered", "missed", "completed")


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One call event, whatever the provider. Times are aware UTC datetimes."""

    provider_call_id: str
    status: str
    started_at: dt.datetime
    caller: str = ""
    called: str = ""
    answered_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    duration: int | None = None
    recording_url: str = ""
    administrator_email: str = ""
    source: str = ""
    medium: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    client_id: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise PayloadError("status", f"must be one of {', '.join(STATUSES)}")


Headers = Mapping[str, str]
Verifier = Callable[[bytes, Headers, str, dt.datetime], None]
Normaliser = Callable[[Mapping[str, Any]], CallEvent]


@dataclass(frozen=True)
class ProviderSpec:
    code: str
    normalise: Normaliser
    verify: Verifier | None = None  # called only when the integration has a signing key
    signature_header: str = ""
    requires_signature: bool = False


# --- parsing helpers (every error names its field) --------------------------------------------------

MAX_TEXT = 500


def text(payload: Mapping[str, Any], field: str, *, required: bool = False, max_len: int = 200) -> str:
    value = payload.get(field)
    if value is None or value == "":
        if required:
            raise PayloadError(field, "is required")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(field, "must be a string")
    out = str(value).strip()
    if len(out) > max_len:
        raise PayloadError(field, f"is longer than {max_len} characters")
    return out


def first_text(payload: Mapping[str, Any], *fields: str, max_len: int = 200) -> str:
    for f in fields:
        value = text(payload, f, max_len=max_len)
        if value:
            return value
    return ""


def integer(payload: Mapping[str, Any], field: str) -> int | None:
    value = payload.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise PayloadError(field, "must be a whole number of seconds")
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise PayloadError(field, "must be a whole number of seconds") from exc
    if number < 0 or number > 7 * 24 * 3600:
        raise PayloadError(field, "is out of range")
    return number


def boolean(payload: Mapping[str, Any], field: str) -> bool | None:
    value = payload.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "1", "yes", "t"):
        return True
    if lowered in ("false", "0", "no", "f"):
        return False
    raise PayloadError(field, "must be true or false")


def timestamp(payload: Mapping[str, Any], field: str, *, required: bool = False) -> dt.datetime | None:
    """ISO 8601 with an offset (or Z), or Unix seconds."""
    value = payload.get(field)
    if value is None or value == "":
        if required:
            raise PayloadError(field, "is required")
        return None
    parsed: dt.datetime | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        parsed = _from_unix(field, float(value))
    elif isinstance(value, str):
        raw = value.strip()
        if raw.isascii() and raw.isdigit():  # float() refuses other digits ("²")
            parsed = _from_unix(field, float(raw))
        else:
            try:
                parsed = parse_datetime(raw.replace(" ", "T", 1) if "T" not in raw else raw)
            except ValueError:
                parsed = None
            if parsed is None:
                raise PayloadError(field, "must be an ISO 8601 date-time or Unix seconds")
            if parsed.tzinfo is None:
                raise PayloadError(field, "must include a time-zone offset")
    else:
        raise PayloadError(field, "must be an ISO 8601 date-time or Unix seconds")
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError as exc:  # year 1 or 9999 moved past the calendar's ends
        raise PayloadError(field, "is out of range") from exc


def required_timestamp(payload: Mapping[str, Any], field: str) -> dt.datetime:
    """``timestamp`` of a field that must be there."""
    value = timestamp(payload, field, required=True)
    if value is None:  # ``required`` raised already; this narrows the type
        raise PayloadError(field, "is required")
    return value


def _from_unix(field: str, seconds: float) -> dt.datetime:
    if seconds > 1e11:  # milliseconds
        seconds /= 1000
    if not 946684800 <= seconds <= 4102444800:  # 2000..2100
        raise PayloadError(field, "is out of range")
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def url(payload: Mapping[str, Any], field: str) -> str:
    value = text(payload, field, max_len=MAX_TEXT)
    if value and not value.lower().startswith(("https://", "http://")):
        raise PayloadError(field, "must be an http(s) URL")
    return value
