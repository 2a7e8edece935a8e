"""API authentication and permission checks: bearer tokens and ``@api_perm``."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import PERMISSIONS
from clinicflow.accounts.selectors import api_token_find
from clinicflow.accounts.services import api_token_touch
from clinicflow.core.access import api_public
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import PermissionDenied
from clinicflow.core.models import AuditAction, AuditOutcome, Organization

F = TypeVar("F", bound=Callable[..., Any])
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


class ApiRequest(HttpRequest):
    """The request an ``@api_perm`` operation receives: the token's staff user (``auth``, set by
    django-ninja from ``TokenAuth``) and their organisation. Handlers declare ``request: ApiRequest``."""

    auth: User
    api_user: User
    org: Organization


class TokenAuth(HttpBearer):
    """``Authorization: Bearer cf_...``; the token (stored as SHA-256) names the user and organisation."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if not token or len(token) > 200:
            return None
        row = api_token_find(raw=token)
        now = timezone.now()
        if row is None or not row.is_usable(now) or not row.user.is_active:
            return None
        if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
            api_token_touch(org=row.user.organization, token=row, now=now)
        # here an HttpRequest becomes an ApiRequest: ninja sets ``auth`` from the returned user
        authed = cast(ApiRequest, request)
        authed.org = row.user.organization
        authed.api_user = row.user
        return row.user


def api_perm(permission: str, *, audit_object: str | None = None) -> Callable[[F], F]:
    """Declare (and enforce) the permission an API operation needs. A refusal is audited
    (``outcome=denied``) against ``audit_object`` (default: the permission's domain)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"undeclared permission {permission!r}")

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            user = getattr(request, "auth", None)  # the token's user; absent when ninja did not authenticate
            if not isinstance(user, User) or not user.has_perm_cf(permission):
                if isinstance(user, User):
                    audit_record(
                        org=user.organization,
                        actor=user,
                        action=AuditAction.VIEW if request.method == "GET" else AuditAction.UPDATE,
                        object_type=audit_object or permission.split(".")[0].rstrip("s"),
                        object_id=str(next(iter(kwargs.values()), ""))[:64],
                        request=request,
                        outcome=AuditOutcome.DENIED,
                    )
                raise PermissionDenied(f"your role may not do this ({permission})")
            return func(request, *args, **kwargs)

        wrapped.cf_permission = permission  # type: ignore[attr-defined]  # a marker read by the meta-test
        return cast(F, wrapped)  # functools.wraps keeps the signature ninja reads

    return decorator


__all__ = ["ApiRequest", "TokenAuth", "api_perm", "api_public"]
