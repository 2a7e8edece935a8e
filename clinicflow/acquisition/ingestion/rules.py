"""The rules of call ingestion, each defined once.

Both ways an event is stored — the portable ORM path (``portable``) and the single PostgreSQL
statement the webhook benchmark needs (``pgsql``) — are built from these definitions: conditions as
``terms`` (rendered to a ``Q`` and to SQL), field lists and empty values as data, decisions as small
functions whose SQL form sits next to them. ``tests/test_ingest_paths.py`` checks with Hypothesis, over
random event sequences, that the two paths store identical rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from django.conf import settings

from clinicflow.acquisition.ingestion.terms import Terms
from clinicflow.acquisition.models import STATUS_RANK, CallStatus

# --- status precedence ----------------------------------------------------------------------------
# A call's status never goes backwards (``STATUS_RANK``): an event of a higher rank takes the status,
# the payload and every non-empty field; an event of a lower or equal rank only fills empty fields.
# So any order of the same events ends as the same row.

MERGE_FIELDS = ("answered_at", "ended_at", "duration", "recording_url", "administrator_id")
# The stored value that counts as "empty" for each merge field (the others are NULL when empty).
EMPTY_VALUE: Mapping[str, Any] = {"recording_url": ""}


def status_rank(status: str) -> int:
    return STATUS_RANK[CallStatus(status)]


def is_empty(field: str, value: Any) -> bool:
    return value is None or value == EMPTY_VALUE.get(field)


def merge(stored: Mapping[str, Any], incoming: Mapping[str, Any], *, higher: bool) -> dict[str, Any]:
    """The merge fields an event changes on the stored call (SQL form: ``pgsql.merge_sets``)."""
    update = {}
    for name in MERGE_FIELDS:
        new = incoming[name]
        if is_empty(name, new):
            continue
        current = stored[name]
        if is_empty(name, current) or (higher and current != new):
            update[name] = new
    return update


# --- what a unique call is --------------------------------------------------------------------------
# The first call from a caller within ``UNIQUE_CALL_WINDOW_DAYS``: no call of the same caller started
# in the window before it. Inserting a call also takes the flag from later calls of the caller that
# now have it inside their window. A caller is the E.164 number, or, for a number that does not
# parse, the raw string among calls without one; a call with no caller at all is never unique.

EARLIER_IN_WINDOW: Terms = (("started_at", "gte", "window_start"), ("started_at", "lt", "started_at"))
LATER_IN_WINDOW: Terms = (
    ("started_at", "gt", "started_at"),
    ("started_at", "lte", "window_end"),
    ("is_unique", "exact", "still_unique"),
)


def unique_window() -> dt.timedelta:
    return dt.timedelta(days=int(settings.CLINICFLOW.get("UNIQUE_CALL_WINDOW_DAYS", 30)))


def same_caller(caller_e164: str, caller_raw: str) -> Terms:
    """The calls of the same caller (no terms: the caller is unknown, nothing is the same caller)."""
    if caller_e164:
        return (("caller_e164", "exact", "caller"),)
    if caller_raw:
        return (("caller_e164", "exact", "blank"), ("caller_raw", "exact", "caller_raw"))
    return ()


def window_values(*, caller_e164: str, caller_raw: str, started_at: dt.datetime) -> dict[str, Any]:
    """The values the caller, window and callback terms compare with."""
    window = unique_window()
    return {
        "caller": caller_e164,
        "caller_raw": caller_raw,
        "blank": "",
        "started_at": started_at,
        "window_start": started_at - window,
        "window_end": started_at + window,
        "still_unique": True,
        "answered": list(ANSWERED),
        "phone": callback_phone(caller_e164, caller_raw),
        "open": True,
    }


# --- patient match ------------------------------------------------------------------------------------
# The caller's patient card: among the live (not merged) cards with a phone of the caller's E.164, the
# oldest (creation time, then id).

PATIENT_ORDER = ("created_at", "id")


class _Card(Protocol):
    created_at: dt.datetime
    id: Any


def first_patient(cards: Iterable[_Card]) -> Any:
    """The matched card's id, or None (SQL form: ``ORDER BY`` the columns of ``PATIENT_ORDER``)."""
    best = min(cards, key=lambda c: tuple(getattr(c, f) for f in PATIENT_ORDER), default=None)
    return best.id if best is not None else None


# --- attribution ----------------------------------------------------------------------------------
# A dynamic number → the web session whose lease held it when the call started (the latest lease);
# otherwise ``attribution.fallback``: a static number → its campaign or channel; a source reported by
# the provider; direct / unknown.

LEASE_HELD_AT: Terms = (("leased_at", "lte", "started_at"), ("held_until", "gte", "started_at"))
LEASE_LATEST = ("leased_at", "id")  # the latest lease wins (descending)
SESSION_ATTRIBUTES = ("channel_id", "campaign_id", "source", "medium", "utm_campaign")

# --- callbacks ----------------------------------------------------------------------------------------
# A call that becomes missed gets a callback task, due ``callback_minutes`` after it ended (or started);
# it is born done when the caller already got through later. A call that becomes answered or completed
# closes the caller's open callbacks of earlier calls.

ANSWERED = (CallStatus.ANSWERED.value, CallStatus.COMPLETED.value)
GOT_THROUGH = "the caller got through later"
GOT_THROUGH_LATER: Terms = (("started_at", "gt", "started_at"), ("status", "in", "answered"))
OPEN_EARLIER_CALLBACKS: Terms = (
    ("phone", "exact", "phone"),
    ("done_at", "isnull", "open"),
    ("call__started_at", "lt", "started_at"),
)


def opens_callback(status: str, before: str | None) -> bool:
    """``before`` is the stored status before the event (None for a new call). SQL form:
    ``status = 'missed' AND before IS DISTINCT FROM 'missed'``."""
    return status == CallStatus.MISSED and before != CallStatus.MISSED


def closes_callbacks(status: str, before: str | None) -> bool:
    """SQL form: ``status = ANY(ANSWERED) AND before IS DISTINCT FROM status``."""
    return status in ANSWERED and before != status


def callback_phone(caller_e164: str, caller_raw: str) -> str:
    return caller_e164 or caller_raw


def callback_due(*, started_at: dt.datetime, ended_at: dt.datetime | None, minutes: int) -> dt.datetime:
    """SQL form: ``COALESCE(ended_at, started_at) + make_interval(mins => minutes)``."""
    return (ended_at or started_at) + dt.timedelta(minutes=minutes)
