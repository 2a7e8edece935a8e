"""Phone numbers normalised to E.164 with the ``phonenumbers`` library.

The default region is the branch's (or organisation's) country, so a local format such as
``8 (916) 123-45-67`` in Russia becomes ``+79161234567``.
"""

from __future__ import annotations

import phonenumbers

from clinicflow.core.errors import ValidationFailed

MAX_INPUT = 40


class InvalidPhone(ValueError):
    pass


def normalize(raw: str, region: str | None = None) -> str:
    """Return the E.164 form of ``raw`` or raise InvalidPhone with a reason."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone("is empty")
    if len(text) > MAX_INPUT:
        raise InvalidPhone("is too long")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, (region or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("is not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def try_normalize(raw: str, region: str | None = None) -> str | None:
    try:
        return normalize(raw, region)
    except InvalidPhone:
        return None


def normalize_field(raw: str, region: str | None, field: str = "phone") -> str:
    """Normalise or raise a 422 ValidationFailed that names the field."""
    try:
        return normalize(raw, region)
    except InvalidPhone as exc:
        raise ValidationFailed.field(field, f"{raw!r} {exc}") from exc


def display(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def looks_like_phone(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 5 and all(ch.isdigit() or ch in "+()- ." for ch in text.strip())
