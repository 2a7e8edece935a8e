"""One-time codes that are never stored: a code is derived from a random reference (the row that
waits for it) and the secret key, so the database holds only the reference and a hash. Whoever holds
the key can re-derive the code — the outbox worker does so at send time (``CODE_MARK`` in a stored
message is replaced then), the booking page checks it."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

CODE_MARK = "[[one-time-code]]"
"""What a stored message holds where its code goes; replaced only in the text handed to the provider."""


def one_time_code(ref: str, digits: int = 6) -> str:
    """The ``digits``-digit code of ``ref`` (a random id), derived with the secret key."""
    mac = hmac.new(settings.SECRET_KEY.encode(), f"one-time-code:{ref}".encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(mac[:8], 'big') % 10**digits:0{digits}d}"


def fill_code(text: str, ref: str) -> str:
    """``text`` with its ``CODE_MARK`` replaced by the code of ``ref``."""
    return text.replace(CODE_MARK, one_time_code(ref)) if CODE_MARK in text else text
