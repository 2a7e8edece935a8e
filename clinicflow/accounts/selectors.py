"""Reads of staff accounts and API tokens."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

from clinicflow.accounts.models import ApiToken, BreakGlassGrant, User, hash_token
from clinicflow.core.errors import NotFound
from clinicflow.core.models import Organization
from clinicflow.core.selectors import parse_uuid

_M = TypeVar("_M", bound=Model)


# The token with its user and organisation, as ``select_related("user", "user__organization")`` reads
# them, in one hand-written statement: every API request runs it, and the ORM spent ~0.8 ms of CPU
# building and compiling the query (more than the database spent on it). Inner joins: both keys
# are NOT NULL; the key hash is unique.
_TOKEN_MODELS: tuple[tuple[str, type[Model]], ...] = (("t", ApiToken), ("u", User), ("o", Organization))


_TOKEN_SQL = """SELECT {cols} FROM {tokens} t
INNER JOIN {users} u ON u."id" = t."user_id"
INNER JOIN {orgs} o ON o."id" = u."organization_id"
WHERE t."key_hash" = %s LIMIT 1"""


@functools.cache
def _token_sql() -> str:
    # nosemgrep: sql-built-from-strings — names from constants or model meta, values bound
    return _TOKEN_SQL.format(  # nosec B608
        cols=", ".join(
            f'{a}."{f.column}"' for a, model in _TOKEN_MODELS for f in model._meta.concrete_fields
        ),
        tokens=f'"{ApiToken._meta.db_table}"',
        users=f'"{User._meta.db_table}"',
        orgs=f'"{Organization._meta.db_table}"',
    )


def _from_row(model: type[_M], row: Sequence[Any], alias: str) -> _M:
    """An instance of ``model`` from its concrete fields' columns, converted as the ORM converts them."""
    fields = model._meta.concrete_fields
    values = []
    for field, value in zip(fields, row, strict=True):
        col = field.get_col(alias)
        for convert in [*connection.ops.get_db_converters(col), *field.get_db_converters(connection)]:
            value = convert(value, col, connection)
        values.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], values)


def api_token_find(*, raw: str) -> ApiToken | None:
    """The token a bearer presents (any organisation's: the token names it), with its user and
    organisation; None when no token has that hash."""
    with connection.cursor() as cur:
        cur.execute(_token_sql(), [hash_token(raw)])
        row = cur.fetchone()
    if row is None:
        return None
    n_token, n_user = (len(m._meta.concrete_fields) for _, m in _TOKEN_MODELS[:2])
    token = _from_row(ApiToken, row[:n_token], "t")
    user = _from_row(User, row[n_token : n_token + n_user], "u")
    user.organization = _from_row(Organization, row[n_token + n_user :], "o")
    token.user = user
    return token


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
