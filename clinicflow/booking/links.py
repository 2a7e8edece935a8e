"""The secrets in public booking links: the patient's manage link and a doctor's calendar feed.

Manage link ``/book/manage/<appointment id>/<version>.<mac>/``: the MAC is an HMAC-SHA256 (key derived
from ``SECRET_KEY``; ``SECRET_KEY_FALLBACKS`` still verify) over the organisation, the appointment and
its ``manage_version``. Nothing readable is stored: staff issuing a new link bump the version, and
every older link then answers "expired". A link expires ``MANAGE_GRACE`` after the visit's end.

Calendar feed ``/booking/ical/<token>.ics``: a random token of which only the SHA-256 is stored,
valid for ``CLINICFLOW["ICAL_FEED_DAYS"]`` days (365 by default) or until a new one is made."""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import secrets

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from clinicflow.booking.models import Appointment

MANAGE_SALT = "clinicflow.booking.manage-link"
MANAGE_GRACE = dt.timedelta(days=1)
MAC_CHARS = 32  # hex digits of the MAC kept in the link (128 bits)
ICAL_FEED_DAYS = 365


class LinkState(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"  # an older version (a new link was issued) or past the visit's end + grace
    WRONG = "wrong"  # not a link this application signed for this appointment


def _mac(appt: Appointment, version: int, secret: str | bytes) -> str:
    value = f"{appt.organization_id}:{appt.pk}:{version}"
    return salted_hmac(MANAGE_SALT, value, secret=secret, algorithm="sha256").hexdigest()[:MAC_CHARS]


def manage_token(appt: Appointment) -> str:
    """The token of the appointment's current manage link."""
    return f"{appt.manage_version}.{_mac(appt, appt.manage_version, settings.SECRET_KEY)}"


def manage_expires_at(appt: Appointment) -> dt.datetime:
    return appt.end_at + MANAGE_GRACE


def manage_state(appt: Appointment, token: str, *, now: dt.datetime | None = None) -> LinkState:
    """Whether ``token`` opens the appointment's manage page: ``WRONG`` for anything not signed for
    it, ``EXPIRED`` for a link of an older version or after the visit's end + ``MANAGE_GRACE``."""
    version_text, _dot, mac = token.partition(".")
    if (
        not (version_text.isascii() and version_text.isdigit())
        or len(version_text) > 9
        or len(mac) != MAC_CHARS
    ):
        return LinkState.WRONG
    version = int(version_text)
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    if not any(hmac.compare_digest(_mac(appt, version, key), mac) for key in keys):
        return LinkState.WRONG
    if version != appt.manage_version or (now or timezone.now()) >= manage_expires_at(appt):
        return LinkState.EXPIRED
    return LinkState.VALID


def feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


def feed_lifetime() -> dt.timedelta:
    days = int(settings.CLINICFLOW.get("ICAL_FEED_DAYS", ICAL_FEED_DAYS))
    return dt.timedelta(days=max(days, 1))
