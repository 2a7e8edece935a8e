"""Field encryption (AES-256-GCM, a key id in every ciphertext) and HMAC-SHA256 blind indexes.

A stored value is ``v1:<kid>:<base64url(nonce ‖ ciphertext ‖ tag)>``. The associated data binds it to
its column (``<table>.<column>``) and to the key id, so a ciphertext pasted into another column, or
relabelled with another key id, fails authentication like a tampered one.

Keys come from settings: ``FIELD_ENCRYPTION_KEYS`` is ``"kid:base64key,kid2:base64key"`` (32-byte
keys; the first one encrypts, every one decrypts by the key id its ciphertext names) and
``BLIND_INDEX_KEY`` is one base64 key of at least 32 bytes. Development and tests derive both from
``SECRET_KEY`` when they are unset; the production profile refuses to start without them
(``config/settings.py``). ``clinicflow rotate_keys`` re-encrypts old rows with the current key.

A blind index is ``HMAC-SHA256(BLIND_INDEX_KEY, purpose ‖ organisation ‖ normalised value)`` cut to
128 bits (32 hex digits): an exact lookup within one organisation works, a fragment search cannot, and
the same phone number has unrelated indexes in two organisations.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

VERSION = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32
INDEX_HEX = 32
DEV_KID = "dev"
_KID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class DecryptionError(ValueError):
    """A stored value could not be decrypted: tampered, under an unknown key, or from another column."""


@dataclass(frozen=True)
class Keyring:
    current: str
    ciphers: dict[str, AESGCM]
    index_key: bytes


def _b64decode(text: str) -> bytes:
    padded = text.strip() + "=" * (-len(text.strip()) % 4)
    return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))


def parse_encryption_keys(spec: str) -> list[tuple[str, bytes]]:
    """``"kid:base64key,..."`` as (kid, key) pairs, the current key first; ``ImproperlyConfigured``
    naming the setting when malformed."""
    pairs: list[tuple[str, bytes]] = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        kid, sep, encoded = item.partition(":")
        if not sep or not _KID.match(kid):
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEYS: each entry is kid:base64key (kid: 1-16 of A-Z a-z 0-9 _ -)"
            )
        try:
            key = _b64decode(encoded)
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS: key {kid!r} is not base64") from exc
        if len(key) != KEY_BYTES:
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS: key {kid!r} must be {KEY_BYTES} bytes")
        if any(kid == k for k, _ in pairs):
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS: key id {kid!r} appears twice")
        pairs.append((kid, key))
    if not pairs:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty")
    return pairs


def parse_index_key(encoded: str) -> bytes:
    try:
        key = _b64decode(encoded)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured("BLIND_INDEX_KEY is not base64") from exc
    if len(key) < KEY_BYTES:
        raise ImproperlyConfigured(f"BLIND_INDEX_KEY must be at least {KEY_BYTES} bytes")
    return key


def _derived(secret: str, purpose: str) -> bytes:
    return hashlib.sha256(f"clinicflow {purpose}\x00{secret}".encode()).digest()


def keyring() -> Keyring:
    return _keyring()


@functools.cache
def _keyring() -> Keyring:
    spec = str(getattr(settings, "FIELD_ENCRYPTION_KEYS", "") or "")
    index = str(getattr(settings, "BLIND_INDEX_KEY", "") or "")
    pairs = (
        parse_encryption_keys(spec)
        if spec
        else [(DEV_KID, _derived(settings.SECRET_KEY, "field encryption"))]
    )
    index_key = parse_index_key(index) if index else _derived(settings.SECRET_KEY, "blind index")
    return Keyring(current=pairs[0][0], ciphers={k: AESGCM(v) for k, v in pairs}, index_key=index_key)


@receiver(setting_changed)
def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting in {"FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "SECRET_KEY"}:
        _keyring.cache_clear()


def _aad(kid: str, context: str) -> bytes:
    return f"clinicflow|{VERSION}|{kid}|{context}".encode()


def encrypt(plaintext: str, *, context: str) -> str:
    """``plaintext`` sealed with the current key for the column ``context`` (``table.column``)."""
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.ciphers[ring.current].encrypt(nonce, plaintext.encode(), _aad(ring.current, context))
    return f"{VERSION}:{ring.current}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def encrypt_many(values: Iterable[str], *, context: str) -> list[str]:
    """Bulk paths: each non-empty value sealed (an empty value stays empty)."""
    ring = keyring()
    cipher, kid = ring.ciphers[ring.current], ring.current
    aad = _aad(kid, context)
    prefix = f"{VERSION}:{kid}:"
    encode, urandom = base64.urlsafe_b64encode, os.urandom
    out = []
    for value in values:
        if not value:
            out.append("")
            continue
        nonce = urandom(NONCE_BYTES)
        out.append(prefix + encode(nonce + cipher.encrypt(nonce, value.encode(), aad)).decode().rstrip("="))
    return out


def key_id(token: str) -> str | None:
    """The key id a stored value names (None: not a ciphertext)."""
    parts = token.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == VERSION else None


def decrypt(token: str, *, context: str) -> str:
    """The plaintext of a value ``encrypt`` sealed for ``context``; ``DecryptionError`` otherwise."""
    parts = token.split(":", 2)
    if len(parts) != 3 or parts[0] != VERSION:
        raise DecryptionError(f"{context}: the stored value is not a {VERSION} ciphertext")
    kid = parts[1]
    cipher = keyring().ciphers.get(kid)
    if cipher is None:
        raise DecryptionError(f"{context}: no key with id {kid!r} in FIELD_ENCRYPTION_KEYS")
    try:
        raw = _b64decode(parts[2])
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError(f"{context}: the ciphertext is not valid base64") from exc
    if len(raw) < NONCE_BYTES + 16:
        raise DecryptionError(f"{context}: the ciphertext is truncated")
    try:
        plain = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(kid, context))
    except InvalidTag as exc:
        raise DecryptionError(
            f"{context}: authentication failed (the value was altered, or belongs to another column)"
        ) from exc
    return plain.decode()


def reencrypt(token: str, *, context: str) -> str | None:
    """``token`` sealed again with the current key, or None when it already is (or is empty)."""
    if not token or key_id(token) == keyring().current:
        return None
    return encrypt(decrypt(token, context=context), context=context)


# -- blind indexes -------------------------------------------------------------------------------

PHONE = "phone"
EMAIL = "email"


def normalise(purpose: str, value: str) -> str:
    value = value.strip()
    return value.lower() if purpose == EMAIL else value


def _org_hex(org_id: Any) -> str:
    if isinstance(org_id, uuid.UUID):
        return org_id.hex
    return uuid.UUID(str(org_id)).hex


def blind_index(purpose: str, org_id: Any, value: str) -> str:
    """The blind index of ``value`` (normalised for ``purpose``) in one organisation; "" for ""."""
    value = normalise(purpose, value)
    if not value:
        return ""
    message = f"{purpose}\x00{_org_hex(org_id)}\x00{value}".encode()
    return hmac.digest(keyring().index_key, message, "sha256").hex()[:INDEX_HEX]


def blind_indexes(purpose: str, org_id: Any, values: Iterable[str]) -> list[str]:
    """Bulk paths: the blind index of each value of one organisation."""
    key, org = keyring().index_key, _org_hex(org_id)
    head = f"{purpose}\x00{org}\x00"
    digest = hmac.digest
    out = []
    for value in values:
        value = normalise(purpose, value)
        out.append(digest(key, (head + value).encode(), "sha256").hex()[:INDEX_HEX] if value else "")
    return out


def phone_index(org_id: Any, e164: str) -> str:
    return blind_index(PHONE, org_id, e164)


def email_index(org_id: Any, email: str) -> str:
    return blind_index(EMAIL, org_id, email)
