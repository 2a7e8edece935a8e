"""Reads of staff accounts and API tokens."""

from __future__ import annotations

from clinicflow.accounts.models import ApiToken, User, hash_token


def api_token_find(*, raw: str) -> ApiToken | None:
    """The token a bearer presents (any organisation's: the token names it), with its user and
    organisation; None when no token has that hash."""
    return (
        ApiToken.objects.select_related("user", "user__organization").filter(key_hash=hash_token(raw)).first()
    )


def user_email_taken(*, email: str) -> bool:
    """Whether a staff user of any organisation logs in with ``email`` (unique installation-wide)."""
    return User.objects.filter(email__iexact=email).exists()


def user_find(*, email: str) -> User | None:
    """The staff user who logs in with ``email`` (any organisation: e-mails are unique), for commands."""
    return User.objects.select_related("organization").filter(email__iexact=email.strip()).first()
