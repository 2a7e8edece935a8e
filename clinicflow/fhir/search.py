"""FHIR search parameters: date prefixes, token ``system|value``, paging (``_count``, ``_offset``)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.http import QueryDict

from clinicflow.fhir.errors import invalid

DEFAULT_COUNT = 20
MAX_COUNT = 100
MAX_OFFSET = 10_000
PREFIXES = ("eq", "ne", "ge", "le", "gt", "lt")
# accepted everywhere and ignored: the format is always JSON
IGNORED = frozenset({"_format", "_pretty"})
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True)
class Page:
    count: int
    offset: int


def page_of(params: QueryDict) -> Page:
    return Page(
        count=_int(params.get("_count"), "_count", DEFAULT_COUNT, 1, MAX_COUNT),
        offset=_int(params.get("_offset"), "_offset", 0, 0, MAX_OFFSET),
    )


def _int(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid(f"{name} must be a whole number from {low} to {high}", name)
    return int(raw)


def check_params(params: QueryDict, allowed: set[str]) -> None:
    """400 for a parameter this search does not support (FHIR's strict handling: a search that
    silently ignored a filter would return more than asked for), or a repeated one that may not be."""
    for name in params:
        base = name.split(":", 1)[0]
        if name in IGNORED or name in ("_count", "_offset"):
            continue
        if base not in allowed or ":" in name:
            supported = ", ".join(sorted(allowed)) or "none"
            raise invalid(f"unsupported search parameter {name[:40]!r}; supported: {supported}", name[:40])


def one(params: QueryDict, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise invalid(f"give {name} once", name)
    value = values[0].strip() if values else None
    if value is not None and (not value or len(value) > 200):
        raise invalid(f"{name} must be 1 to 200 characters", name)
    return value


def token(value: str) -> tuple[str | None, str]:
    """``system|value`` -> (system, value); ``value`` -> (None, value)."""
    if "|" in value:
        system, _, code = value.partition("|")
        return system or None, code
    return None, value


def reference(value: str, kind: str, name: str) -> str:
    """``Kind/id`` or ``id`` -> id."""
    if "/" in value:
        prefix, _, rid = value.rpartition("/")
        if prefix.rsplit("/", 1)[-1] != kind:
            raise invalid(f"{name} must reference a {kind}", name)
        return rid
    return value


def _split_prefix(value: str) -> tuple[str, str]:
    if value[:2] in PREFIXES and len(value) > 2 and not value[:2].isdigit():
        return value[:2], value[2:]
    return "eq", value


def _date_range(text: str, name: str, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The instants [start, end) a FHIR date or dateTime covers, at its precision."""
    m = _DATE.match(text)
    try:
        if m:
            year, month, day = int(m[1]), int(m[2] or 1), int(m[3] or 1)
            start_date = dt.date(year, month, day)
            if m[3]:
                end_date = start_date + dt.timedelta(days=1)
            elif m[2]:
                end_date = (start_date.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            else:
                end_date = start_date.replace(year=year + 1)
            start = dt.datetime.combine(start_date, dt.time(0), tzinfo=tz)
            return start, dt.datetime.combine(end_date, dt.time(0), tzinfo=tz)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise invalid(f"{name}: {text[:40]!r} is not a FHIR date or dateTime", name) from exc
    if moment.tzinfo is None:
        raise invalid(f"{name}: a time needs a zone offset, e.g. +03:00 or Z", name)
    return moment, moment + dt.timedelta(seconds=1)


def date_q(params: QueryDict, name: str, field: str, *, tz: dt.tzinfo = dt.UTC, dates: bool = False) -> Q:
    """The condition of every ``name`` parameter (ANDed: ``date=ge2026-12-01&date=lt2027-01-01``) on
    ``field``; ``dates``: the field is a date (birth dates), not an instant."""
    condition = Q()
    for raw in params.getlist(name):
        prefix, text = _split_prefix(raw.strip())
        start, end = _date_range(text, name, tz)
        lo: Any = start.date() if dates else start
        hi: Any = (end - dt.timedelta(microseconds=1)).date() if dates else end
        # a date field holds a whole day: [lo, hi] inclusive; an instant: [lo, hi) half-open
        upper = f"{field}__lte" if dates else f"{field}__lt"
        above = f"{field}__gt" if dates else f"{field}__gte"
        if prefix == "eq":
            condition &= Q(**{f"{field}__gte": lo, upper: hi})
        elif prefix == "ne":
            condition &= ~Q(**{f"{field}__gte": lo, upper: hi})
        elif prefix == "ge":
            condition &= Q(**{f"{field}__gte": lo})
        elif prefix == "gt":
            condition &= Q(**{above: hi})
        elif prefix == "le":
            condition &= Q(**{upper: hi})
        else:  # lt
            condition &= Q(**{f"{field}__lt": lo})
    return condition


def instant_bounds(params: QueryDict, name: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The [from, to) window of ``name`` given with ge/gt/le/lt/eq (for the slot search)."""
    low: dt.datetime | None = None
    high: dt.datetime | None = None
    for raw in params.getlist(name):
        prefix, text = _split_prefix(raw.strip())
        start, end = _date_range(text, name, dt.UTC)
        if prefix in ("ge", "eq"):
            low = max(low, start) if low else start
        if prefix == "gt":
            low = max(low, end) if low else end
        if prefix in ("le", "eq"):
            high = min(high, end) if high else end
        if prefix == "lt":
            high = min(high, start) if high else start
        if prefix == "ne":
            raise invalid(f"{name} does not support the ne prefix", name)
    return low, high
