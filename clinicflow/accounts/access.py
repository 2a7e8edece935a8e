"""Permission checks for pages: every view states the permission it needs (deny by default).

``@require_perm("patients.view")`` on a page view; ``@public_view`` on the few pages that need no
login (login, public booking, the tracking script). A meta-test walks the URL resolver and fails
on any view without a declaration.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clinicflow.accounts.models import User
from clinicflow.accounts.roles import PERMISSIONS
from clinicflow.core.access import PUBLIC, declared_permission, public_view
from clinicflow.core.audit import audit_record
from clinicflow.core.models import AuditAction, AuditOutcome, Organization

F = TypeVar("F", bound=Callable[..., HttpResponse])


def require_perm(permission: str, *, audit_object: str | None = None) -> Callable[[F], F]:
    if permission not in PERMISSIONS:
        raise KeyError(f"undeclared permission {permission!r}")

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if not user.has_perm_cf(permission):
                if audit_object:
                    audit_record(
                        org=user.organization,
                        actor=user,
                        action=AuditAction.VIEW if request.method == "GET" else AuditAction.UPDATE,
                        object_type=audit_object,
                        object_id=next(iter(kwargs.values()), ""),
                        request=request,
                        outcome=AuditOutcome.DENIED,
                    )
                return render(request, "core/403.html", status=403)
            return view(request, *args, **kwargs)

        wrapped.cf_permission = permission  # type: ignore[attr-defined]  # a marker read by the meta-test
        return cast(F, wrapped)  # functools.wraps keeps the view's signature

    return decorator


class AuthedRequest(HttpRequest):
    """The request a permission-checked view receives: a signed-in staff user and their organisation."""

    user: User
    org: Organization


__all__ = ["PUBLIC", "AuthedRequest", "declared_permission", "public_view", "require_perm"]
