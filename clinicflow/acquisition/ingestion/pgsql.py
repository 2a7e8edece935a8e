"""The PostgreSQL way to store a call event: one prepared statement per event, built from ``rules``.

``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` the event changes something, ``RETURNING (xmax = 0)``
to tell an insert from a merge; the unique flag, patient match, web-session attribution and the
callbacks are sub-queries and data-modifying CTEs. A duplicate that changes nothing is answered from a
lock-free read and writes nothing. The statement text depends only on the event's shape (which caller
terms, which merge fields it fills), so each shape is built once per process and prepared once per
connection. The portable path (``portable``) is the reference: ``tests/test_ingest_paths.py`` checks
with Hypothesis that both store identical rows."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any

from django.db import connection
from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.acquisition.ingestion import attribution, lookups, rules
from clinicflow.acquisition.ingestion.event import Incoming, IngestResult
from clinicflow.acquisition.ingestion.terms import Terms, as_sql
from clinicflow.acquisition.models import (
    AttributionMethod,
    Call,
    CallbackTask,
    CallStatus,
    NumberLease,
    NumberPool,
    WebSession,
)
from clinicflow.core import rawsql
from clinicflow.core.crypto import phone_index
from clinicflow.core.ids import uuid7
from clinicflow.patients.models import Patient, PatientPhone

# Every value is a bound parameter of a declared type; only table and column names from the models'
# meta and fixed SQL fragments are written into the text.
UUID, TEXT, TS = "uuid", "text", "timestamptz"
PARAM_TYPES: Mapping[str, str] = {
    **dict.fromkeys(("id", "task_id", "org", "integration", "branch", "number", "lease_number"), UUID),
    **dict.fromkeys(("fb_channel_id", "fb_campaign_id"), UUID),
    **dict.fromkeys(("provider", "pcid", "called", "caller", "caller_raw", "blank", "status", "phone"), TEXT),
    "caller_index": TEXT,
    **dict.fromkeys(("recording_url", "missed", "got_through"), TEXT),
    **{f"fb_{name}": TEXT for name in ("attribution_method", "source", "medium", "utm_campaign")},
    **dict.fromkeys(("started_at", "window_start", "window_end", "answered_at", "ended_at", "now"), TS),
    **dict.fromkeys(("rank", "duration", "callback_minutes"), "integer"),
    "still_unique": "boolean",
    "answered": "text[]",
    "payload": "jsonb",
}


def _columns() -> list[str]:
    return [str(f.column) for f in Call._meta.concrete_fields]


def _is_empty_sql(alias: str, name: str) -> str:
    empty = rules.EMPTY_VALUE.get(name)
    return f"{alias}.{name} IS NULL" if empty is None else f"{alias}.{name} = '{empty}'"


def _filled_sql(alias: str, name: str) -> str:
    empty = rules.EMPTY_VALUE.get(name)
    return f"{alias}.{name} IS NOT NULL" if empty is None else f"{alias}.{name} <> '{empty}'"


def merge_sets(t: str) -> tuple[str, str]:
    """``rules.merge`` and the status precedence as the ON CONFLICT update: (SET list, WHERE guard);
    ``t`` is the stored row, ``EXCLUDED`` the event."""
    higher = f"EXCLUDED.status_rank > {t}.status_rank"
    sets = [
        f"status = CASE WHEN {higher} THEN EXCLUDED.status ELSE {t}.status END",
        f"status_rank = GREATEST({t}.status_rank, EXCLUDED.status_rank)",
        f"payload = CASE WHEN {higher} THEN EXCLUDED.payload ELSE {t}.payload END",
    ]
    guard = [higher]
    for name in rules.MERGE_FIELDS:
        filled, empty = _filled_sql("EXCLUDED", name), _is_empty_sql(t, name)
        sets.append(
            f"{name} = CASE WHEN {filled} AND ({empty} OR ({higher} AND {t}.{name} IS DISTINCT FROM "
            f"EXCLUDED.{name})) THEN EXCLUDED.{name} ELSE {t}.{name} END"
        )
        guard.append(f"({filled} AND {empty})")
    sets.append("updated_at = EXCLUDED.updated_at")
    return ", ".join(sets), " OR ".join(guard)


def _would_change(filled: tuple[str, ...]) -> str:
    """Would the event change the stored row ``cur``? (lock-free; merges are monotone, so a "no" stays
    a "no" against any later version of the row)"""
    return " OR ".join(["cur.status_rank < %(rank)s", *(_is_empty_sql("cur", name) for name in filled)])


def _tables() -> dict[str, str]:
    return {
        "call": Call._meta.db_table,
        "lease": NumberLease._meta.db_table,
        "session": WebSession._meta.db_table,
        "task": CallbackTask._meta.db_table,
        "patient": Patient._meta.db_table,
        "phone": PatientPhone._meta.db_table,
    }


def _insert_values(same: Terms, caller_known: bool) -> dict[str, str]:
    t = _tables()
    unique = (
        f"NOT EXISTS (SELECT 1 FROM {t['call']} e WHERE e.organization_id = %(org)s AND "  # nosec B608 # noqa: S608 - names from model meta
        f"{as_sql(same + rules.EARLIER_IN_WINDOW, 'e')})"
        if same
        else "false"
    )
    order = ", ".join(f"pt.{column}" for column in rules.PATIENT_ORDER)
    patient = (
        f"(SELECT pt.id FROM {t['patient']} pt WHERE pt.organization_id = %(org)s"  # nosec B608 # noqa: S608 - names from model meta
        f" AND pt.merged_into_id IS NULL AND pt.id IN (SELECT ph.patient_id FROM {t['phone']} ph"
        f" WHERE ph.organization_id = %(org)s AND ph.e164_index = %(caller_index)s) ORDER BY {order} LIMIT 1)"
        if caller_known
        else "NULL::uuid"
    )
    values = {
        "id": "%(id)s",
        "organization_id": "%(org)s",
        "provider": "%(provider)s",
        "provider_call_id": "%(pcid)s",
        "integration_id": "%(integration)s",
        "branch_id": "%(branch)s",
        "tracking_number_id": "%(number)s",
        "called_number": "%(called)s",
        "caller_e164": "%(caller)s",
        "caller_raw": "%(caller_raw)s",
        "started_at": "%(started_at)s",
        "status": "%(status)s",
        "status_rank": "%(rank)s",
        "is_unique": unique,
        "patient_id": patient,
        "session_id": "ls.session_id",
        "attribution_method": f"CASE WHEN ls.session_id IS NULL THEN %(fb_attribution_method)s ELSE"
        f" '{AttributionMethod.SESSION.value}' END",
        "score": "NULL::numeric",
        "payload": "%(payload)s",
        "events": "1",
        "created_at": "%(now)s",
        "updated_at": "%(now)s",
    }
    values.update({name: f"%({name.removesuffix('_id')})s" for name in rules.MERGE_FIELDS})
    for name in rules.SESSION_ATTRIBUTES:
        values[name] = f"CASE WHEN ls.session_id IS NULL THEN %(fb_{name})s ELSE ls.{name} END"
    return values


def _side_effects(same: Terms, has_phone: bool) -> list[str]:
    t = _tables()
    before = "(SELECT cur.status FROM cur)"  # the stored status before the event (NULL: a new call)
    at_ins = {"started_at": "ins.started_at"}
    effects = [
        # The session that showed the number gets the matched patient.
        f"sess AS (UPDATE {t['session']} s SET patient_id = ins.patient_id FROM ins WHERE ins.inserted"  # nosec B608 # noqa: S608 - names from model meta
        f" AND ins.patient_id IS NOT NULL AND s.organization_id = %(org)s AND s.id = ins.session_id"
        f" AND s.patient_id IS NULL)",
    ]
    if same:
        effects.append(
            f"later AS (UPDATE {t['call']} l SET is_unique = false FROM ins WHERE ins.inserted"  # nosec B608 # noqa: S608 - names from model meta
            f" AND l.organization_id = %(org)s AND {as_sql(same + rules.LATER_IN_WINDOW, 'l')}"
            f" AND l.id <> ins.id RETURNING l.patient_id, l.branch_id, l.started_at)"
        )
    answered_later = (
        f"(SELECT g.started_at FROM {t['call']} g WHERE g.organization_id = %(org)s"  # nosec B608 # noqa: S608 - names from model meta
        f" AND {as_sql(same + rules.GOT_THROUGH_LATER, 'g', at_ins)} ORDER BY g.started_at LIMIT 1)"
        if same
        else "NULL::timestamptz"
    )
    effects.append(
        f"cb AS (INSERT INTO {t['task']} (id, organization_id, call_id, branch_id, phone, due_at, done_at,"  # nosec B608 # noqa: S608 - names from model meta
        f" assigned_to_id, outcome, created_at)"
        f" SELECT %(task_id)s, %(org)s, ins.id, ins.branch_id, %(phone)s,"
        f" COALESCE(ins.ended_at, ins.started_at) + make_interval(mins => %(callback_minutes)s), al.at,"
        f" NULL, CASE WHEN al.at IS NULL THEN '' ELSE %(got_through)s END, %(now)s"
        f" FROM ins CROSS JOIN LATERAL (SELECT {answered_later} AS at) al"
        f" WHERE ins.status = %(missed)s AND {before} IS DISTINCT FROM %(missed)s"
        f" ON CONFLICT DO NOTHING RETURNING branch_id, due_at)"
    )
    if has_phone:
        open_earlier = as_sql(rules.OPEN_EARLIER_CALLBACKS, {"": "t", "call": "tc"}, at_ins)
        effects.append(
            f"closed AS (UPDATE {t['task']} t SET done_at = ins.started_at, outcome = %(got_through)s"  # nosec B608 # noqa: S608 - names from model meta
            f" FROM ins, {t['call']} tc WHERE ins.status = ANY(%(answered)s)"
            f" AND {before} IS DISTINCT FROM ins.status AND t.organization_id = %(org)s"
            f" AND tc.id = t.call_id AND {open_earlier} RETURNING t.branch_id, t.due_at)"
        )
    return effects


# More data-modifying CTEs of the statement, registered by the apps above at start-up (before the first
# statement is built): each gets whether the statement has ``later`` (the caller's later calls whose
# unique flag it took: ``patient_id, branch_id, started_at``) and ``closed`` (the earlier callbacks
# the call closed: ``branch_id, due_at``), and may read ``ins`` (the stored call, when inserted or
# changed) and ``cb`` (the callback task opened: ``branch_id, due_at``), with the parameters ``org``
# and ``now`` (the daily facts record what the statement changed: the analytics' ``owner.signals``,
# in the same transaction — one statement per event still).
EFFECTS: list[Callable[[bool, bool], str]] = []


def register_effect(effect: Callable[[bool, bool], str]) -> None:
    """Add a CTE to every statement built from now on (once per function)."""
    if effect not in EFFECTS:
        EFFECTS.append(effect)
        statement.cache_clear()


@functools.cache
def statement(same: Terms, filled: tuple[str, ...], caller_known: bool, has_phone: bool) -> rawsql.Prepared:
    """The statement of one shape of event, built once per process."""
    t = _tables()
    cols = _columns()
    col_list = ", ".join(cols)
    values = _insert_values(same, caller_known)
    select_list = ", ".join(values[c] for c in cols)
    sets, guard = merge_sets(t["call"])
    would_change = _would_change(filled)
    held = as_sql(rules.LEASE_HELD_AT, "nl")
    latest = ", ".join(f"nl.{column} DESC" for column in rules.LEASE_LATEST)
    session_cols = ", ".join(f"s.{name}" for name in rules.SESSION_ATTRIBUTES)
    sql = (
        f"WITH cur AS (SELECT {col_list} FROM {t['call']} WHERE organization_id = %(org)s"  # nosec B608 # noqa: S608 - names from model meta
        f" AND provider = %(provider)s AND provider_call_id = %(pcid)s),"
        f" ls AS (SELECT s.id AS session_id, {session_cols}"
        f" FROM {t['lease']} nl JOIN {t['session']} s ON s.id = nl.session_id"
        f" WHERE nl.organization_id = %(org)s AND nl.number_id = %(lease_number)s AND {held}"
        f" ORDER BY {latest} LIMIT 1),"
        f" ins AS (INSERT INTO {t['call']} ({col_list})"
        f" SELECT {select_list} FROM (SELECT 1) one LEFT JOIN ls ON true"
        f" WHERE NOT EXISTS (SELECT 1 FROM cur WHERE NOT ({would_change}))"
        f" ON CONFLICT (organization_id, provider, provider_call_id) DO UPDATE SET {sets} WHERE {guard}"
        f" RETURNING {col_list}, (xmax = 0) AS inserted),"
        f" {', '.join(_side_effects(same, has_phone) + [hook(bool(same), has_phone) for hook in EFFECTS])}"
        f" SELECT {col_list}, ins.inserted, true AS changed, false AS stale FROM ins"
        f" UNION ALL SELECT {col_list}, false, false, ({would_change}) FROM cur"
        f" WHERE NOT EXISTS (SELECT 1 FROM ins)"
    )
    return rawsql.Prepared.compile(sql, {**PARAM_TYPES, "administrator": _admin_pk_type()})


@functools.cache
def _admin_pk_type() -> str:
    pk = User._meta.pk
    assert pk is not None  # every concrete model has a primary key
    return str(pk.db_type(connection))


def parameters(item: Incoming) -> dict[str, Any]:
    event = item.event
    number = item.number
    fallback = attribution.fallback(item)
    return {
        **item.window_values(),
        **{name.removesuffix("_id"): value for name, value in item.values.items()},
        **{f"fb_{name}": str(v) if isinstance(v, str) else v for name, v in fallback.items()},
        "id": uuid7(),
        "task_id": uuid7(),
        "org": item.org.pk,
        # patients' numbers are encrypted: the caller is matched by the blind index (core.crypto)
        "caller_index": phone_index(item.org.pk, item.caller_e164),
        "provider": item.provider,
        "pcid": event.provider_call_id,
        "integration": item.integration.pk if item.integration is not None else None,
        "branch": item.branch_id,
        "number": number.pk if number is not None else None,
        "lease_number": number.pk if number is not None and number.pool == NumberPool.DYNAMIC else None,
        "called": item.called,
        "status": event.status,
        "rank": item.rank,
        "payload": json.dumps(dict(item.payload)),
        "now": timezone.now(),
        "callback_minutes": lookups.callback_minutes(item.org),
        "missed": CallStatus.MISSED.value,
        "got_through": rules.GOT_THROUGH,
    }


def ingest(item: Incoming) -> IngestResult | None:
    """One statement per event. None when a concurrent delivery of the same call changed the row after
    this statement's snapshot: the caller then takes the portable path, which locks the row."""
    same = rules.same_caller(item.caller_e164, item.caller_raw)
    filled = tuple(name for name in rules.MERGE_FIELDS if not rules.is_empty(name, item.values[name]))
    params = parameters(item)
    prepared = statement(same, filled, bool(item.caller_e164), bool(params["phone"]))
    row = rawsql.fetchone(prepared, params)
    if row is None or row[-1]:
        return None
    cols = len(Call._meta.concrete_fields)
    return IngestResult(call=_call_from_row(row[:cols]), created=bool(row[-3]), changed=bool(row[-2]))


def _call_from_row(row: tuple[Any, ...]) -> Call:
    fields = Call._meta.concrete_fields
    values = []
    for field, value in zip(fields, row, strict=True):
        if value is not None and hasattr(field, "from_db_value"):
            value = field.from_db_value(value, None, connection)
        values.append(value)
    return Call.from_db(connection.alias, [f.attname for f in fields], values)
