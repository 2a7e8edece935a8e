"""Globally unique, time-ordered ids (UUID version 7 layout) for every tenant row."""

from __future__ import annotations

import os
import time
import uuid


def uuid7(ms: int | None = None, rand: bytes | None = None) -> uuid.UUID:
    """A UUIDv7: 48 bits of Unix milliseconds, then random bits. Sorted by creation time,
    which keeps B-tree inserts local, and unique across organisations and shards."""
    if ms is None:
        ms = time.time_ns() // 1_000_000
    raw = bytearray(ms.to_bytes(6, "big") + (rand if rand is not None else os.urandom(10))[:10])
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return uuid.UUID(bytes=bytes(raw))
