"""Hand-written SQL for the few hot reads where building the query costs more than running it.

Django's ORM spends ~0.4 ms of Python building even a one-line query (2.5 ms for a three-part UNION);
the booking path runs a handful per request, so its hottest reads (a doctor's schedule, the live
appointments of a period) are plain SQL through these helpers. They work on PostgreSQL and SQLite:
parameters are adapted the way Django's fields would adapt them, results are converted back.
Every query that uses them is still tenant-scoped by ``organization_id`` (first column of each index).
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection


def placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


def db_uuid(value: uuid.UUID) -> Any:
    return value if connection.features.has_native_uuid_field else value.hex


def db_datetime(value: dt.datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def db_date(value: dt.date) -> Any:
    return connection.ops.adapt_datefield_value(value)


def py_uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def py_time(value: Any) -> dt.time | None:
    if value is None or isinstance(value, dt.time):
        return value
    return dt.time.fromisoformat(str(value))


def py_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def epoch_sql(column: str) -> str:
    """Whole seconds since 1970 of a datetime column (ints load much faster than timestamps)."""
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})::bigint"
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, list(params))
        return list(cur.fetchall())


@dataclass(frozen=True)
class Prepared:
    """A statement in PostgreSQL's own form (``$1::type``, ...) and the parameter name of each ``$n``.

    Written with ``%(name)s`` placeholders and compiled once (``compile``): psycopg then sends the text
    as it is (a ``RawCursor`` parses no placeholders, which costs ~0.6 ms per execution of a long
    statement), and every parameter carries its declared type, so one value may meet ``text`` and
    ``varchar`` columns and a NULL has a type."""

    text: str
    names: tuple[str, ...]

    @classmethod
    def compile(cls, sql: str, types: Mapping[str, str]) -> Prepared:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in names:
                names.append(name)
            cast = types.get(name)
            return f"${names.index(name) + 1}" + (f"::{cast}" if cast else "")

        text = _NAMED.sub(number, sql).replace("%%", "%")
        return cls(text=text, names=tuple(names))


_NAMED = re.compile(r"%\((\w+)\)s")
# psycopg prepares a statement after this many executions; Django switches preparing off (None),
# which also ignores ``prepare=True``. A threshold never reached keeps automatic preparing off while the
# explicit request works (Django's own client-side-binding cursors never prepare).
_EXPLICIT_ONLY = 2**31 - 1


def fetchone(statement: Prepared, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """Run ``statement`` on the PostgreSQL connection and return its first row.

    The server prepares it once per connection and then runs it from its plan cache (for a hot, long
    statement of a few fixed shapes, the call-tracking webhook's upsert: ~2 ms of parse and plan against
    ~1 ms of execution), through psycopg's public API: a ``RawCursor`` on Django's connection and
    ``execute(..., prepare=True)``. ``DB_PREPARED_STATEMENTS=0`` runs it unprepared (for a pooler that
    cannot keep prepared statements). The statement is logged like Django's own queries."""
    prepare = bool(getattr(settings, "DB_PREPARED_STATEMENTS", True))
    # as Django's cursor() does: a kept connection that PostgreSQL dropped (a restart) is replaced
    # here instead of failing this request (CONN_HEALTH_CHECKS)
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    if prepare and raw.prepare_threshold is None:
        raw.prepare_threshold = _EXPLICIT_ONLY
    values = [params[name] for name in statement.names]
    started = time.monotonic()
    with connection.wrap_database_errors, psycopg.RawCursor(raw) as cursor:
        cursor.execute(statement.text, values, prepare=prepare)
        row = cursor.fetchone()
    if connection.queries_logged:
        connection.queries_log.append({"sql": statement.text, "time": f"{time.monotonic() - started:.3f}"})
    return row
