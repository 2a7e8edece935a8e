"""PostgreSQL's binary ``COPY`` format, encoded column by column with numpy.

A row of the binary format is a 16-bit field count, then per field a 32-bit byte length (-1 for
NULL) and that many bytes in the type's network representation (uuid: 16 bytes; timestamptz:
microseconds since 2000-01-01 UTC; date: days since 2000-01-01; numeric: base-10000 digit groups;
text: UTF-8; all integers big-endian). Each column becomes a :class:`Cells` — an (N, W) byte matrix
padded to the column's widest value, plus each value's length — and :func:`encode_rows` lays the
columns side by side and keeps only the bytes each row really has, so no Python code runs per row
or per value (except encoding the text of string columns).

The format is half the work for the server too: it does not parse UUIDs, timestamps or numbers
from text. https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
PG_EPOCH_SECONDS = 946_684_800  # 2000-01-01T00:00:00Z
PG_EPOCH_DAYS = 10_957
NUMERIC_POS = 0x0000
NUMERIC_NEG = 0x4000
# numeric as four base-10000 digit groups 10^8, 10^4, 10^0, 10^-4: any amount below 10^12 with two
# decimals (the server strips the leading zero groups and applies the column's scale)
NUMERIC_MAX_MINOR = 10**14


@dataclass
class Cells:
    """One column of N values: ``data[i, :lengths[i]]`` are value i's bytes; length -1 is NULL."""

    data: np.ndarray  # (N, W) uint8
    lengths: np.ndarray  # (N,) int32

    @classmethod
    def fixed(cls, values: np.ndarray, dtype: str) -> Cells:
        """Fixed-width big-endian numbers (``>i8``, ``>i4``, ``>i2``, ``>f8``, ``u1``)."""
        arr = np.ascontiguousarray(values, dtype=dtype)
        n = arr.shape[0]
        width = arr.dtype.itemsize
        return cls(arr.view(np.uint8).reshape(n, width), np.full(n, width, dtype=np.int32))

    def with_nulls(self, mask: np.ndarray | None) -> Cells:
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.any():
                self.lengths = np.where(mask, -1, self.lengths).astype(np.int32)
        return self


def uuid_cells(ids: np.ndarray) -> Cells:
    """From an (N, 16) uint8 array."""
    data = np.ascontiguousarray(ids, dtype=np.uint8).reshape(-1, 16)
    return Cells(data, np.full(data.shape[0], 16, dtype=np.int32))


def timestamptz_cells(seconds: np.ndarray) -> Cells:
    """From int64 Unix seconds (UTC)."""
    micro = (np.asarray(seconds, dtype=np.int64) - PG_EPOCH_SECONDS) * 1_000_000
    return Cells.fixed(micro, ">i8")


def date_cells(days: np.ndarray) -> Cells:
    """From int64 days since 1970-01-01."""
    return Cells.fixed(np.asarray(days, dtype=np.int64) - PG_EPOCH_DAYS, ">i4")


def time_cells(micros: np.ndarray) -> Cells:
    """From int64 microseconds since midnight."""
    return Cells.fixed(micros, ">i8")


def bool_cells(values: np.ndarray) -> Cells:
    return Cells.fixed(np.asarray(values, dtype=bool).astype(np.uint8), "u1")


def numeric_cells(minor: np.ndarray) -> Cells:
    """From int64 hundredths: ``ndigits=4, weight=2, sign, dscale=2`` and four digit groups."""
    v = np.asarray(minor, dtype=np.int64)
    a = np.abs(v)
    if a.size and int(a.max()) >= NUMERIC_MAX_MINOR:
        raise ValueError(f"amount out of range: {int(a.max()) / 100}")
    whole, frac = a // 100, a % 100
    out = np.empty((v.shape[0], 8), dtype=">u2")
    out[:, 0] = 4
    out[:, 1] = 2
    out[:, 2] = np.where(v < 0, NUMERIC_NEG, NUMERIC_POS)
    out[:, 3] = 2
    out[:, 4] = whole // 100_000_000
    out[:, 5] = (whole // 10_000) % 10_000
    out[:, 6] = whole % 10_000
    out[:, 7] = frac * 100
    return Cells(out.view(np.uint8).reshape(-1, 16), np.full(v.shape[0], 16, dtype=np.int32))


def text_cells(values: list[Any], prefix: bytes = b"") -> Cells:
    """From a list of ``str`` (``None`` is NULL), UTF-8 encoded; ``prefix`` precedes each value
    (jsonb's version byte)."""
    nulls = [i for i, v in enumerate(values) if v is None] if None in values else []
    if nulls:
        values = ["" if v is None else v for v in values]
    arr = np.asarray(values, dtype=np.str_)
    if arr.dtype.itemsize == 0 or arr.shape[0] == 0:
        arr = arr.astype("U1")
    encoded = np.strings.encode(arr, "utf-8")
    lengths = np.strings.str_len(encoded).astype(np.int32)
    width = encoded.dtype.itemsize
    data = np.ascontiguousarray(encoded).view(np.uint8).reshape(-1, width)
    if prefix:
        data = np.concatenate([np.tile(np.frombuffer(prefix, np.uint8), (data.shape[0], 1)), data], axis=1)
        lengths = lengths + len(prefix)
    if nulls:
        lengths[nulls] = -1
    return Cells(data, lengths)


def json_cells(values: list[Any], jsonb: bool) -> Cells:
    """JSON texts; an empty list or object, or one object given for many rows, encoded once."""
    texts: list[str | None] = []
    seen: dict[int, str] = {}
    for v in values:
        if v is None:
            texts.append(None)
        elif not v and type(v) in (list, dict):
            texts.append("[]" if type(v) is list else "{}")
        else:
            text = seen.get(id(v))
            if text is None:
                text = seen[id(v)] = json.dumps(v, ensure_ascii=False)
            texts.append(text)
    return text_cells(texts, b"\x01" if jsonb else b"")


def repeat(cells: Cells, n: int) -> Cells:
    """One value's cells repeated for ``n`` rows (a scalar column)."""
    return Cells(np.broadcast_to(cells.data[:1], (n, cells.data.shape[1])), np.repeat(cells.lengths[:1], n))


def encode_rows(columns: list[Cells]) -> bytes:
    """The tuples of a binary COPY (no header or trailer) for the rows of ``columns``."""
    n = columns[0].lengths.shape[0]
    widths = [4 + c.data.shape[1] for c in columns]
    total = 2 + sum(widths)
    mat = np.empty((n, total), dtype=np.uint8)
    keep = np.ones((n, total), dtype=bool)
    mat[:, :2] = np.frombuffer(np.array(len(columns), dtype=">i2").tobytes(), np.uint8)
    off = 2
    for c in columns:
        w = c.data.shape[1]
        mat[:, off : off + 4] = c.lengths.astype(">i4").view(np.uint8).reshape(n, 4)
        mat[:, off + 4 : off + 4 + w] = c.data
        if w and (c.lengths != w).any():
            keep[:, off + 4 : off + 4 + w] = np.arange(w) < c.lengths[:, None]
        off += 4 + w
    return mat[keep].tobytes()


def scalar_cells(db_type: str, value: Any) -> Cells:
    """One Python value's cells, by the column's database type."""
    if value is None:
        return Cells(np.zeros((1, 0), np.uint8), np.array([-1], np.int32))
    kind = db_type.split("(")[0].strip()
    if kind == "uuid":
        raw = value.bytes if hasattr(value, "bytes") else bytes.fromhex(str(value).replace("-", ""))
        return uuid_cells(np.frombuffer(raw, np.uint8).reshape(1, 16))
    if kind == "timestamp with time zone":
        if isinstance(value, dt.datetime):
            value = int(value.timestamp())
        return timestamptz_cells(np.array([value]))
    if kind == "date":
        if isinstance(value, dt.date):
            value = (value - dt.date(1970, 1, 1)).days
        return date_cells(np.array([value]))
    if kind == "time" and isinstance(value, dt.time | str):
        value = _time_micros(value)
    return column_cells(db_type, np.array([value]) if not isinstance(value, str | dict | list) else [value])


# the column types whose cells come from a numpy array: by an encoder, or as fixed-size big-endian values
ARRAY_ENCODERS: dict[str, Callable[[np.ndarray], Cells]] = {
    "timestamp with time zone": timestamptz_cells,
    "date": date_cells,
    "boolean": bool_cells,
    "numeric": numeric_cells,
}
FIXED_FORMATS = {
    "smallint": ">i2",
    "integer": ">i4",
    "serial": ">i4",
    "bigint": ">i8",
    "bigserial": ">i8",
    "double precision": ">f8",
}


def column_cells(db_type: str, value: np.ndarray | list[Any]) -> Cells:
    """A column's cells by its database type, from the bulk writer's column conventions (see
    ``bulk``): UUIDs as (N, 16) uint8, datetimes as Unix seconds, dates as days, decimals as
    hundredths, booleans as bools; ``None`` in a list is NULL."""
    kind = db_type.split("(")[0].strip()
    if kind in ("varchar", "text", "char") or kind.startswith("character"):
        return text_cells(
            value.tolist()
            if isinstance(value, np.ndarray)
            else [None if v is None else str(v) for v in value]
        )
    if kind in ("jsonb", "json"):
        return json_cells(list(value), jsonb=kind == "jsonb")
    if isinstance(value, list) and None in value:
        mask = np.array([v is None for v in value])
        filled = [0 if v is None else v for v in value]
        if kind == "uuid":
            filled = [np.zeros(16, np.uint8) if v is None else _uuid_bytes(v) for v in value]
        return column_cells(db_type, np.asarray(filled)).with_nulls(mask)
    if kind == "uuid":
        arr = np.asarray(value)
        if arr.dtype != np.uint8:
            arr = np.stack([_uuid_bytes(v) for v in value]) if len(value) else np.zeros((0, 16), np.uint8)
        return uuid_cells(arr)
    if kind == "time":
        if isinstance(value, list) or np.asarray(value).dtype.kind not in "iu":
            value = np.array([_time_micros(v) for v in value], dtype=np.int64)
        return time_cells(np.asarray(value))
    if kind in ARRAY_ENCODERS:
        return ARRAY_ENCODERS[kind](np.asarray(value))
    if kind in FIXED_FORMATS:
        return Cells.fixed(np.asarray(value), FIXED_FORMATS[kind])
    raise ValueError(f"binary COPY: no encoder for column type {db_type!r}")


def _uuid_bytes(v: Any) -> np.ndarray:
    raw = v.bytes if hasattr(v, "bytes") else bytes.fromhex(str(v).replace("-", ""))
    return np.frombuffer(raw, np.uint8)


def _time_micros(v: Any) -> int:
    """Microseconds since midnight of a ``time`` or an ISO ``HH:MM[:SS]`` string."""
    t = v if isinstance(v, dt.time) else dt.time.fromisoformat(str(v))
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond
