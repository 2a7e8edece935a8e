"""API authentication and permission checks: bearer tokens and ``@api_perm``."""

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from clinicflow.accounts.models import ApiToken, User, hash_token
from clinicflow.accounts.roles import PERMISSIONS
from clinicflow.core.access import api_public
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import PermissionDenied
from clinicflow.core.models import AuditAction, AuditOutcome

F = TypeVar("F", bound=Callable[..., Any])


class TokenAuth(HttpBearer):
    """``Authorization: Bearer cf_...``; the token (stored as SHA-256) names the user and organisation."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        if not token or len(token) > 200:
            return None
        row = (
            ApiToken.objects.select_related("user", "user__organization")
            .filter(key_hash=hash_token(token))
            .first()
        )
        now = timezone.now()
        if row is None or not row.is_usable(now) or not row.user.is_active:
            return None
        if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=5):
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.org = row.user.organization  # type: ignore[attr-defined]
        request.api_user = row.user  # type: ignore[attr-defined]
        return row.user


def api_perm(permission: str, *, audit_object: str | None = None) -> Callable[[F], F]:
    """Declare (and enforce) the permission an API operation needs. A refusal is audited
    (``outcome=denied``) against ``audit_object`` (default: the permission's domain)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"undeclared permission {permission!r}")

    def decorator(func: F) -> F:
        @functools.wraps(func)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            user = request.auth  # type: ignore[attr-defined]
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

        wrapped.cf_permission = permission  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


__all__ = ["TokenAuth", "api_perm", "api_public"]
