"""Bulk writes of columnar data into Django models' tables, bypassing the ORM's per-row work:
PostgreSQL binary ``COPY … FROM STDIN`` through psycopg 3 (encoded with numpy, see ``pgcopy``),
SQLite ``executemany`` in large batches.

A column is a numpy array or a list; its conversion follows the model field's type:
UUIDs come as (N, 16) uint8 arrays, datetimes as int64 UTC seconds, dates as int64 days since
1970-01-01, decimals as int64 minor units (hundredths), booleans as bool arrays. ``None`` in a list,
or a ``<name>__null`` boolean mask, makes NULLs. Scalars are broadcast to every row. Encrypted
columns (``core.fields``) are given as plaintext and sealed here; a blind index left out is computed
from its source column, so a bulk-written phone or e-mail is found like one saved through the ORM.
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection, models

from clinicflow.core.fields import BlindIndexField, EncryptedTextField
from clinicflow.simulator.engine.ids import hex_ids
from clinicflow.simulator.writers import pgcopy

SQLITE_BATCH = 20_000
IN_FLIGHT_BYTES = 192 * 1024 * 1024


def _dt_strings(seconds: np.ndarray) -> list[str]:
    """Django's SQLite form (compared as text): '2026-01-31 09:30:00'."""
    stamps = np.asarray(seconds, dtype="int64").astype("datetime64[s]")
    s = np.datetime_as_string(stamps, unit="s").astype("U19")
    s.view(np.uint32).reshape(-1, 19)[:, 10] = 32
    out: list[str] = s.tolist()
    return out


def _date_strings(days: np.ndarray) -> list[str]:
    out: list[str] = np.datetime_as_string(
        np.asarray(days, dtype="int64").astype("datetime64[D]"), unit="D"
    ).tolist()
    return out


def _decimal_strings(minor: np.ndarray) -> list[str]:
    v = np.asarray(minor, dtype=np.int64)
    neg = v < 0
    a = np.abs(v)
    whole = (a // 100).tolist()
    frac = (a % 100).tolist()
    if neg.any():
        return [
            ("-" if n else "") + f"{w}.{f:02d}" for n, w, f in zip(neg.tolist(), whole, frac, strict=True)
        ]
    return [f"{w}.{f:02d}" for w, f in zip(whole, frac, strict=True)]


def _texts(value: Any, n: int) -> list[str]:
    """A text column as one ``str`` per row (a scalar broadcast, ``None`` as "")."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list):
        return [str(value)] * n
    return ["" if v is None else str(v) for v in value]


class CopyPipe:
    """PostgreSQL: runs the COPY statements in a background thread on the same connection, so
    PostgreSQL ingests one chunk while Python encodes the next. The main thread must not use the
    connection until :meth:`close` returns."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.raw = connection.connection
        self.queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self.room = threading.Condition()
        self.in_flight = 0  # bytes queued or being copied: at most IN_FLIGHT_BYTES (memory bound)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="simulator-copy", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            sql, data = item
            try:
                copy_binary(self.raw, sql, data)
            except BaseException as exc:
                self.error = exc
            finally:
                with self.room:
                    self.in_flight -= len(data)
                    self.room.notify()

    def put(self, sql: str, data: bytes) -> None:
        """Queue a COPY; waits while more than ``IN_FLIGHT_BYTES`` are queued (a byte budget rather
        than a count: chunks range from a few rows to a month of web sessions, and a deep queue keeps
        PostgreSQL busy while Python generates the next month)."""
        with self.room:
            while self.in_flight > 0 and self.in_flight + len(data) > IN_FLIGHT_BYTES and self.error is None:
                self.room.wait()
            if self.error is not None:
                raise self.error
            self.in_flight += len(data)
        self.queue.put((sql, data))

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def copy_binary(raw: Any, sql: str, data: bytes) -> None:
    with raw.cursor() as cur, cur.copy(sql) as copy:
        copy.write(pgcopy.HEADER)
        copy.write(data)
        copy.write(pgcopy.TRAILER)


class BulkWriter:
    """Writes rows into one model's table. ``now`` fills datetime fields left to their default."""

    def __init__(
        self, model: type[models.Model], *, now: int, org_id: Any, pipe: CopyPipe | None = None
    ) -> None:
        self.pipe = pipe
        self.model = model
        self.now = now
        self.org_id = org_id
        self.org_hex = org_id.hex if hasattr(org_id, "hex") else str(org_id)
        self.pg = connection.vendor == "postgresql"
        self.table = model._meta.db_table
        self.rows = 0

    def write(self, cols: dict[str, Any]) -> int:
        n = 0
        for v in cols.values():
            if isinstance(v, np.ndarray | list):
                n = len(v)
                break
        if n == 0:
            return 0
        names: list[str] = []
        values: list[Any] = []
        given = {k for k in cols if not k.endswith("__null")}
        for field in self.model._meta.concrete_fields:
            name = field.name
            names.append(str(field.column))
            if name == "organization":
                values.append(self._column(field, self.org_id, n, None))
                continue
            if isinstance(field, BlindIndexField) and name not in given and field.source in given:
                value = field.index_column(self.org_id, _texts(cols[field.source], n))
            elif name in given:
                value = cols[name]
            elif field.attname in given:
                value = cols[field.attname]
            else:
                value = self._default(field)
            if isinstance(field, EncryptedTextField) and (isinstance(value, np.ndarray | list) or value):
                value = field.seal_column(_texts(value, n))  # a fresh nonce per row, even for a scalar
            values.append(self._column(field, value, n, cols.get(f"{name}__null")))
        if self.pg:
            self._copy(names, values)
        else:
            self._insert(names, values, n)
        self.rows += n
        return n

    def _default(self, field: models.Field[Any, Any]) -> Any:
        """The value of a column the caller left out."""
        name = field.name
        if field.has_default():
            default = field.default
            if not callable(default):
                return default
            if isinstance(field, models.DateTimeField):
                return self.now
            if isinstance(field, models.JSONField):
                return default()
            raise ValueError(
                f"{self.model.__name__}.{name}: has a per-row default; the writer must supply it"
            )
        if field.null:
            return None
        if isinstance(field, models.CharField | models.TextField) and field.blank:
            return ""
        raise ValueError(f"{self.model.__name__}.{name}: required, and no value was given")

    def _column(self, field: models.Field[Any, Any], value: Any, n: int, null_mask: np.ndarray | None) -> Any:
        if not self.pg:
            return self._convert(field, value, n, null_mask)
        db_type = field.db_type(connection) or ""
        if not isinstance(value, np.ndarray | list):
            if value is not None and db_type.startswith("numeric"):
                value = int(Decimal(str(value)) * 100)  # a scalar is in whole units, arrays in hundredths
                return pgcopy.repeat(pgcopy.column_cells(db_type, np.array([value])), n)
            return pgcopy.repeat(pgcopy.scalar_cells(db_type, value), n)
        try:
            return pgcopy.column_cells(db_type, value).with_nulls(null_mask)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{self.model.__name__}.{field.name}: {exc}") from exc

    def _convert(
        self, field: models.Field[Any, Any], value: Any, n: int, null_mask: np.ndarray | None
    ) -> list[Any]:
        """SQLite: one Python value per row, as Django stores them there."""
        internal = field.get_internal_type()
        if isinstance(field, models.ForeignKey):
            internal = field.target_field.get_internal_type()
        if not isinstance(value, np.ndarray | list):
            if value is None:
                return [None] * n
            return [self._scalar(internal, value)] * n
        if internal == "UUIDField":
            arr = np.asarray(value)
            if arr.dtype == np.uint8 and arr.ndim == 2:
                out: list[Any] = hex_ids(arr)
            else:
                out = [None if v is None else (v.hex if hasattr(v, "hex") else str(v)) for v in value]
        elif internal == "DateTimeField":
            out = _dt_strings(np.asarray(value))
        elif internal == "DateField":
            out = _date_strings(np.asarray(value))
        elif internal == "DecimalField":
            out = _decimal_strings(np.asarray(value))
        elif internal == "BooleanField":
            out = [1 if x else 0 for x in np.asarray(value, dtype=bool).tolist()]
        elif internal == "JSONField":
            out = [None if v is None else json.dumps(v) for v in value]
        elif isinstance(value, np.ndarray):
            out = value.tolist()
        else:
            out = list(value)
        if null_mask is not None:
            for i in np.flatnonzero(null_mask).tolist():
                out[i] = None
        return out

    def _scalar(self, internal: str, value: Any) -> Any:
        if internal == "UUIDField":
            return value.hex if hasattr(value, "hex") else str(value)
        if internal == "DateTimeField":
            if isinstance(value, dt.datetime):
                value = int(value.timestamp())
            return _dt_strings(np.array([value]))[0]
        if internal == "DateField":
            if isinstance(value, dt.date):
                return value.isoformat()
            return _date_strings(np.array([value]))[0]
        if internal == "BooleanField":
            return 1 if value else 0
        if internal == "JSONField":
            return json.dumps(value)
        if internal == "TimeField" and isinstance(value, dt.time):
            return value.isoformat()
        return value

    def _copy(self, names: list[str], cells: list[pgcopy.Cells]) -> None:
        cols = ", ".join(f'"{c}"' for c in names)
        sql = f'COPY "{self.table}" ({cols}) FROM STDIN WITH (FORMAT binary)'
        data = pgcopy.encode_rows(cells)
        if self.pipe is not None:
            self.pipe.put(sql, data)
            return
        connection.ensure_connection()
        copy_binary(connection.connection, sql, data)

    def _insert(self, names: list[str], values: list[list[Any]], n: int) -> None:
        connection.ensure_connection()
        raw = connection.connection
        cols = ", ".join(f'"{c}"' for c in names)
        ph = ", ".join("?" for _ in names)
        sql = f'INSERT INTO "{self.table}" ({cols}) VALUES ({ph})'  # nosec B608 # noqa: S608 - names from model meta
        rows = list(zip(*values, strict=True))
        cur = raw.cursor()
        for i in range(0, n, SQLITE_BATCH):
            # nosemgrep: sql-built-from-strings — column and table names from model meta, values bound
            cur.executemany(sql, rows[i : i + SQLITE_BATCH])
        cur.close()
