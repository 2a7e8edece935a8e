"""Hand-written SQL for the few hot reads where building the query costs more than running it.

Django's ORM spends ~0.4 ms of Python building even a one-line query (2.5 ms for a three-part UNION);
the booking path runs a handful per request, so its hottest reads (a doctor's schedule, the live
appointments of a period) are plain SQL through these helpers. They work on PostgreSQL and SQLite:
parameters are adapted the way Django's fields would adapt them, results are converted back.
Every query that uses them is still tenant-scoped by ``organization_id`` (first column of each index).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence
from typing import Any

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


@functools.cache
def _prepared_cursor_class() -> Any:
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]
    from psycopg._queries import PostgresQuery, _query2pg
    from psycopg.types.string import StrDumper

    class CachedQuery(PostgresQuery):
        """psycopg parses a query for its placeholders on every execution unless it is shorter than
        4 KiB; our prepared statements are longer and always the same few texts, so cache them all
        (0.6 ms per execution of the webhook statement)."""

        def convert(self, query: Any, vars: Any) -> None:
            if vars is None or not isinstance(query, str | bytes):
                super().convert(query, vars)
                return
            query = self._ensure_bytes(query)
            self.query, self._want_formats, self._order, self._parts = _query2pg(query, self._tx.encoding)
            self.dump(vars)

    class PreparedCursor(ServerBindingCursor):  # type: ignore[misc,valid-type]
        _query_cls = CachedQuery

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # strings as ``text`` (not ``unknown``): one parameter may meet text and varchar columns
            self.adapters.register_dumper(str, StrDumper)  # type: ignore[attr-defined]

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs.setdefault("prepare", True)
            return super().execute(query, params, **kwargs)  # type: ignore[misc]

    return PreparedCursor


def prepared_cursor() -> Any:
    """A Django cursor (PostgreSQL) whose statements the server prepares once per connection and then
    runs from its plan cache, with server-side parameters. For a hot, long statement of a few fixed
    shapes (the call-tracking webhook's upsert: ~2 ms of parse and plan against ~1 ms of execution).
    ``DB_PREPARED_STATEMENTS=0`` falls back to a plain cursor (for a pooler that cannot keep prepared
    statements). Other databases get a plain cursor."""
    from django.conf import settings

    if connection.vendor != "postgresql" or not getattr(settings, "DB_PREPARED_STATEMENTS", True):
        return connection.cursor()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django switches psycopg's preparing off (None), which also ignores ``prepare=True``; a huge
        # threshold keeps automatic preparing off while the explicit request works. (Django's own
        # client-side-binding cursors never prepare.)
        raw.prepare_threshold = 2**31 - 1
    return connection._prepare_cursor(_prepared_cursor_class()(raw))  # type: ignore[attr-defined]
