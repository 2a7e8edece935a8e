"""Reads of staff accounts and API tokens."""

from __future__ import annotations

from clinicflow.accounts.models import ApiToken, BreakGlassGrant, User, hash_token
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid


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


def break_glass_grants(*, org: Organization, limit: int = 200) -> list[BreakGlassGrant]:
    """The organisation's emergency grants, newest first, with who opened and who revoked them."""
    return list(
        BreakGlassGrant.objects.for_org(org)
        .select_related("user", "revoked_by")
        .order_by("-created_at", "-id")[:limit]
    )


def break_glass_grant_get(*, org: Organization, grant_id: object) -> BreakGlassGrant:
    pk = parse_uuid(grant_id)
    grant = BreakGlassGrant.objects.for_org(org).filter(pk=pk).first() if pk is not None else None
    if grant is None:
        raise NotFound("grant not found")
    return grant


def staff_accounts(*, org: Organization, role: str | None = None) -> list[User]:
    """The organisation's active staff accounts (of one role when given), by e-mail."""
    users = User.objects.filter(organization=org, is_active=True)
    if role:
        users = users.filter(role=role)
    return list(users.order_by("email"))
