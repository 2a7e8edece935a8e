"""core.crypto: AES-GCM field encryption with key ids, and HMAC blind indexes (CR-03)."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from clinicflow.core import crypto

K1 = base64.b64encode(b"\x01" * 32).decode()
K2 = base64.b64encode(b"\x02" * 32).decode()
CTX = "patients_patient.email"
ORG = uuid.UUID("01900000-0000-7000-8000-000000000001")


@pytest.fixture
def two_keys(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEYS = f"k2:{K2},k1:{K1}"


def test_a_value_round_trips_under_the_current_key_with_a_fresh_nonce(two_keys: None) -> None:
    a = crypto.encrypt("anna@example.ru", context=CTX)
    b = crypto.encrypt("anna@example.ru", context=CTX)
    assert a != b
    assert a.startswith("v1:k2:") and crypto.key_id(a) == "k2"
    assert crypto.decrypt(a, context=CTX) == "anna@example.ru"
    assert crypto.encrypt_many(["x", "", "y"], context=CTX)[1] == ""


def test_every_listed_key_decrypts_and_reencrypt_moves_to_the_current_one(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEYS = f"k1:{K1}"
    old = crypto.encrypt("note", context=CTX)
    settings.FIELD_ENCRYPTION_KEYS = f"k2:{K2},k1:{K1}"
    assert crypto.decrypt(old, context=CTX) == "note"
    new = crypto.reencrypt(old, context=CTX)
    assert new is not None and crypto.key_id(new) == "k2"
    assert crypto.reencrypt(new, context=CTX) is None
    settings.FIELD_ENCRYPTION_KEYS = f"k2:{K2}"
    assert crypto.decrypt(new, context=CTX) == "note"
    with pytest.raises(crypto.DecryptionError, match="no key with id 'k1'"):
        crypto.decrypt(old, context=CTX)


@pytest.mark.parametrize("position", [0, 5, 12, 20, -1])
def test_any_flipped_byte_fails_authentication(two_keys: None, position: int) -> None:
    token = crypto.encrypt("+79161234567", context=CTX)
    head, body = token.rsplit(":", 1)
    raw = bytearray(crypto._b64decode(body))
    raw[position] ^= 0x80
    tampered = f"{head}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"
    with pytest.raises(crypto.DecryptionError, match="authentication failed"):
        crypto.decrypt(tampered, context=CTX)


def test_a_value_is_bound_to_its_column_and_its_key_id(two_keys: None) -> None:
    token = crypto.encrypt("secret", context=CTX)
    with pytest.raises(crypto.DecryptionError, match=r"patients_patient\.notes: authentication failed"):
        crypto.decrypt(token, context="patients_patient.notes")
    relabelled = token.replace("v1:k2:", "v1:k1:")
    with pytest.raises(crypto.DecryptionError, match="authentication failed"):
        crypto.decrypt(relabelled, context=CTX)
    for broken in ("plaintext", "v1:k2:", "v1:k2:!!!"):
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(broken, context=CTX)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("k1", "each entry is kid:base64key"),
        ("bad id:" + K1, "each entry is kid:base64key"),
        ("k1:c2hvcnQ=", "key 'k1' must be 32 bytes"),
        (f"k1:{K1},k1:{K2}", "appears twice"),
        (" , ", "is empty"),
    ],
)
def test_malformed_keys_are_refused_naming_the_setting(spec: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        crypto.parse_encryption_keys(spec)


def test_the_blind_index_key_must_be_long_enough() -> None:
    with pytest.raises(ImproperlyConfigured, match="BLIND_INDEX_KEY must be at least 32 bytes"):
        crypto.parse_index_key(base64.b64encode(b"x" * 16).decode())


def test_blind_indexes_are_exact_normalised_keyed_and_per_organisation(settings: Any) -> None:
    other = uuid.UUID("01900000-0000-7000-8000-000000000002")
    a = crypto.email_index(ORG, " Anna@Example.RU ")
    assert a == crypto.email_index(str(ORG), "anna@example.ru") and len(a) == 32
    assert a != crypto.email_index(other, "anna@example.ru")
    assert crypto.phone_index(ORG, "+79161234567") != crypto.phone_index(ORG, "+79161234568")
    assert crypto.phone_index(ORG, "+79161234567") != crypto.email_index(ORG, "+79161234567")
    assert crypto.phone_index(ORG, "") == ""
    assert crypto.blind_indexes(crypto.PHONE, ORG, ["+79161234567", ""]) == [
        crypto.phone_index(ORG, "+79161234567"),
        "",
    ]
    settings.BLIND_INDEX_KEY = base64.b64encode(b"\x07" * 32).decode()
    assert crypto.email_index(ORG, "anna@example.ru") != a


def test_development_keys_derive_from_the_secret_key(settings: Any) -> None:
    settings.FIELD_ENCRYPTION_KEYS = ""
    token = crypto.encrypt("x", context=CTX)
    assert crypto.key_id(token) == crypto.DEV_KID
    settings.SECRET_KEY = "another-development-secret-key-" + "x" * 30
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, context=CTX)
