"""Hand-written SQL for the few hot reads where building the query costs more than running it.

Django's ORM spends ~0.4 ms of Python building even a one-line query (2.5 ms for a three-part UNION);
the booking path runs a handful per request, so its hottest reads (a doctor's schedule, the live
appointments of a period) are plain SQL through these helpers. They work on PostgreSQL and SQLite:
parameters are adapted the way Django's fields would adapt them, results are converted back.
Every query that uses them is still tenant-scoped by ``organization_id`` (first column of each index).
"""

from __future__ import annotations

import datetime as dt
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
