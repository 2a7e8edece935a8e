"""What every FHIR mapping shares: identifier systems, ids, instants, references, dates."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from clinicflow.fhir.errors import invalid, unprocessable

FHIR_VERSION = "4.0.1"
CONTENT_TYPE = "application/fhir+json; charset=utf-8"

# identifier and code systems of Clinicflow's own ids and codes
PATIENT_SYSTEM = "urn:clinicflow:patient"
APPOINTMENT_SYSTEM = "urn:clinicflow:appointment"
DOCTOR_SYSTEM = "urn:clinicflow:doctor"
SERVICE_SYSTEM = "urn:clinicflow:service"
BRANCH_SYSTEM = "urn:clinicflow:branch"

ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def instant(value: dt.datetime) -> str:
    """An aware datetime as a FHIR instant in UTC, to the second (``2026-12-07T07:00:00Z``)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(updated: dt.datetime | None) -> dict[str, Any]:
    return {"lastUpdated": instant(updated)} if updated is not None else {}


def parse_instant(value: object, element: str) -> dt.datetime:
    """A FHIR instant / dateTime with seconds and a zone offset (``Z`` or ``+03:00``); else 422."""
    if not isinstance(value, str) or "T" not in value:
        raise unprocessable(
            "must be a date and time with a time zone, e.g. 2026-12-07T10:00:00+03:00", element
        )
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise unprocessable("is not a valid date and time", element) from exc
    if parsed.tzinfo is None:
        raise unprocessable("must include a time zone offset, e.g. +03:00 or Z", element)
    return parsed


def parse_date(value: object, element: str) -> dt.date:
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise unprocessable("must be a full date, YYYY-MM-DD", element)
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise unprocessable("is not a valid date", element) from exc


def reference_id(ref: object, resource_type: str, element: str) -> str:
    """The id in a ``{"reference": "Type/id"}`` of ``resource_type``; 422 for any other type."""
    if not isinstance(ref, dict) or not isinstance(ref.get("reference"), str):
        raise unprocessable(f"must be a reference to a {resource_type}", element)
    text = str(ref["reference"])
    kind, _, rid = text.rpartition("/")
    kind = kind.rsplit("/", 1)[-1]
    if kind != resource_type or not ID_RE.match(rid):
        raise unprocessable(f"must be a reference to a {resource_type}, got {text[:80]!r}", element)
    return rid


def uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


def b36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def slot_id(schedule_id: uuid.UUID, service_id: uuid.UUID, start: dt.datetime) -> str:
    """A free slot's id: its schedule, service and start minute (slots are computed, not stored).
    At most 25 + 1 + 25 + 1 + 7 characters, within FHIR's 64."""
    minutes = int(start.timestamp()) // 60
    return f"{b36(schedule_id.int)}.{b36(service_id.int)}.{b36(minutes)}"


def slot_id_parse(value: str) -> tuple[uuid.UUID, uuid.UUID, dt.datetime] | None:
    parts = value.split(".")
    if len(parts) != 3 or not all(0 < len(p) <= 25 for p in parts):
        return None
    try:
        schedule, service, minutes = (int(p, 36) for p in parts)
        return (
            uuid.UUID(int=schedule),
            uuid.UUID(int=service),
            dt.datetime.fromtimestamp(minutes * 60, tz=dt.UTC),
        )
    except (ValueError, OverflowError, OSError):
        return None


def resource_of(body: object, resource_type: str, element: str = "") -> dict[str, Any]:
    """``body`` when it is a JSON object of ``resource_type``; else 400 (not a resource) or 422."""
    if not isinstance(body, dict) or not isinstance(body.get("resourceType"), str):
        raise invalid("the body must be a FHIR resource (a JSON object with resourceType)", element)
    if body["resourceType"] != resource_type:
        raise unprocessable(
            f"expected a {resource_type}, got a {str(body['resourceType'])[:40]}",
            f"{element}.resourceType" if element else "resourceType",
        )
    return body
