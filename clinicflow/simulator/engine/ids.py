"""Deterministic UUIDv7 ids, generated in bulk from a seeded generator.

The layout is exactly ``clinicflow.core.ids.uuid7(ms=..., rand=...)``: 48 bits of Unix
milliseconds, then ten random bytes with the version (7) and variant bits set."""

from __future__ import annotations

import uuid

import numpy as np


def uuid7_array(rng: np.random.Generator, ms: np.ndarray) -> np.ndarray:
    """An (N, 16) uint8 array of UUIDv7 ids for the given Unix-millisecond timestamps."""
    ms = np.asarray(ms, dtype=np.int64)
    n = ms.shape[0]
    out = np.empty((n, 16), dtype=np.uint8)
    be = ms.astype(">u8").view(np.uint8).reshape(n, 8)
    out[:, :6] = be[:, 2:]
    out[:, 6:] = np.frombuffer(rng.bytes(10 * n), dtype=np.uint8).reshape(n, 10)
    out[:, 6] = (out[:, 6] & 0x0F) | 0x70
    out[:, 8] = (out[:, 8] & 0x3F) | 0x80
    return out


def hex_ids(ids: np.ndarray) -> list[str]:
    """32-character lower-case hex strings (Django's UUIDField form on SQLite, accepted by COPY)."""
    h = ids.tobytes().hex()
    return [h[i : i + 32] for i in range(0, len(h), 32)]


def to_uuid(row: np.ndarray) -> uuid.UUID:
    return uuid.UUID(bytes=row.tobytes())
