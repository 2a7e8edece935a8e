"""Receivers of Django's sign-in signals (connected in ``apps.py``): every login, logout and failed
login of a staff user leaves an audit row (SECURITY.md LG-01). The pages and the token API only
call ``django.contrib.auth``; the rows are written here, through the accounts services."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from clinicflow.accounts.models import User
from clinicflow.accounts.services import login_failure_record, sign_in_event_record
from clinicflow.core.models import AuditAction


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if isinstance(user, User):
        sign_in_event_record(user=user, action=AuditAction.LOGIN, request=request)


def on_logged_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if isinstance(user, User):  # None or anonymous when no one was signed in
        sign_in_event_record(user=user, action=AuditAction.LOGOUT, request=request)


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # ``credentials`` comes with the password already masked by Django; only the e-mail is read
    login_failure_record(email=credentials.get("username"), request=request)
