"""The password asked again before a sensitive change (second factor enrolment, replacement or
removal, password change, emergency access), with wrong guesses throttled (AU-02 for step-up).

Wrong passwords are counted per user and per client address (``core.net.client_ip``) in the shared
counter store (``core.ratelimit``). After ``settings.AXES_FAILURE_LIMIT`` wrong passwords of a user
(four times as many from one address) within ``settings.AXES_COOLOFF_TIME`` hours, the same as for
the login, every further attempt is refused without the password being checked, until the window
ends. Every wrong password and every refused attempt is audited as failed (``password_check``).
"""

from __future__ import annotations

import enum

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from clinicflow.accounts.models import User
from clinicflow.core import ratelimit
from clinicflow.core.audit import audit_record
from clinicflow.core.models import AuditAction, AuditOutcome
from clinicflow.core.net import client_ip

IP_FACTOR = 4
WRONG_PASSWORD = _("Wrong password.")
TOO_MANY = _("Too many wrong passwords. Try again later.")


class Recheck(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"


def _limits() -> tuple[int, int]:
    limit = int(getattr(settings, "AXES_FAILURE_LIMIT", 5))
    window = max(60, int(float(getattr(settings, "AXES_COOLOFF_TIME", 0.25)) * 3600))
    return limit, window


def _keys(request: HttpRequest, user: User) -> list[tuple[str, int]]:
    limit, _ = _limits()
    keys = [(f"reauth:user:{user.pk}", limit)]
    ip = client_ip(request)
    if ip:
        keys.append((f"reauth:ip:{ip}", limit * IP_FACTOR))
    return keys


def reauth_locked(request: HttpRequest, user: User) -> bool:
    """Whether the password may not be tried again now (too many wrong ones lately)."""
    cache = caches["default"]
    for key, limit in _keys(request, user):
        count = cache.get(ratelimit.PREFIX + key)
        if isinstance(count, int) and count >= limit:
            return True
    return False


def _record(request: HttpRequest, user: User, *, locked: bool) -> None:
    audit_record(
        org=user.organization,
        actor=user,
        action=AuditAction.LOGIN,
        object_type="password_check",
        object_id=user.pk,
        fields=["locked"] if locked else ["password"],
        request=request,
        outcome=AuditOutcome.FAILED,
    )


def reauth_failed(request: HttpRequest, user: User) -> None:
    """Count and audit one wrong password (for a form that checked it itself)."""
    _, window = _limits()
    for key, limit in _keys(request, user):
        ratelimit.hit(key, limit, window)
    _record(request, user, locked=False)


def reauth_refused(request: HttpRequest, user: User) -> None:
    """Audit an attempt refused because of earlier wrong passwords."""
    _record(request, user, locked=True)


def password_recheck(request: HttpRequest, user: User, password: str) -> Recheck:
    """Check ``password`` for a sensitive change by the signed-in ``user``: ``LOCKED`` (not even
    checked) after too many wrong ones, ``WRONG`` (counted and audited), or ``OK``."""
    if reauth_locked(request, user):
        reauth_refused(request, user)
        return Recheck.LOCKED
    if user.check_password(password):
        return Recheck.OK
    reauth_failed(request, user)
    return Recheck.WRONG
