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


def _pack(head: bytes, raw: bytes, n: int) -> np.ndarray:
    """``n`` UUIDv7 ids: the 6-byte time ``head``, then 10 random bytes each from ``raw``."""
    buf = bytearray(16 * n)
    for i in range(n):
        r, o = 10 * i, 16 * i
        buf[o : o + 6] = head
        buf[o + 6 : o + 16] = raw[r : r + 10]
        buf[o + 6] = (raw[r] & 0x0F) | 0x70
        buf[o + 8] = (raw[r + 2] & 0x3F) | 0x80
    return np.frombuffer(buf, dtype=np.uint8).reshape(n, 16)


class IdStream:
    """Many small ``uuid7_array(rng, np.full(n, ms))`` calls — a writer taking ids a transaction at a
    time — with the same ids and, after :meth:`close`, ``rng`` in the same state, but its words drawn in
    blocks (one numpy call per id costs more than the rest of the writer's work).

    ``Generator.bytes(k)`` is ``ceil(k / 4)`` 32-bit words of ``integers(0, 2**32, dtype=uint32)``, little
    endian, cut to ``k`` bytes: each call here takes as many words from the block. Nothing else may
    draw from ``rng`` between the first :meth:`take` and :meth:`close` (which rewinds ``rng`` and
    draws exactly the words taken, so later draws are those the calls would have met)."""

    def __init__(self, rng: np.random.Generator, expected: int = 1024) -> None:
        self.rng = rng
        self.start = rng.bit_generator.state
        self.words = b""
        self.used = 0  # words taken
        self._draw(max(expected, 16) * 3)

    def _draw(self, words: int) -> None:
        self.words += self.rng.integers(0, 2**32, size=words, dtype=np.uint32).astype("<u4").tobytes()

    def take(self, ms: int, n: int) -> np.ndarray:
        count = (10 * n + 3) // 4
        if 4 * (self.used + count) > len(self.words):
            self._draw(max(count, len(self.words) // 4))
        at = 4 * self.used
        self.used += count
        return _pack(int(ms).to_bytes(8, "big")[2:], self.words[at : at + 10 * n], n)

    def close(self) -> None:
        self.rng.bit_generator.state = self.start
        if self.used:
            self.rng.integers(0, 2**32, size=self.used, dtype=np.uint32)
        self.words, self.used = b"", 0
