"""Writes for staff accounts, their second factor and API tokens.

A password change, a deactivation or a role change ends every session of the user (a self-service
password change keeps the caller's own, which the view gives a new key) and revokes their API tokens.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinicflow.accounts.models import ApiToken, User, hash_token
from clinicflow.accounts.roles import Role
from clinicflow.accounts.selectors import user_email_taken, user_find
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import AuditAction, AuditOutcome, Branch, Organization


@transaction.atomic
def user_create(
    *,
    org: Organization,
    actor: User | None,
    email: str,
    password: str,
    role: str,
    full_name: str = "",
    is_consultant: bool = False,
    validate: bool = True,
    branch: Branch | None = None,
) -> User:
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationFailed.field("role", f"must be one of {', '.join(Role.values)}")
    if not email or "@" not in email:
        shown = f"“{email}” is" if email else "is"
        raise ValidationFailed.field("email", f"{shown} not a valid e-mail address")
    if user_email_taken(email=email):
        raise Conflict(f"a user with e-mail {email} already exists", fields={"email": ["already exists"]})
    if branch is not None and branch.organization_id != org.pk:
        raise ValidationFailed.field("branch", "belongs to another organisation")
    user = User(
        organization=org,
        email=email,
        role=role,
        full_name=full_name,
        is_consultant=is_consultant,
        branch=branch,
    )
    if validate:
        _validate_password(password, user)
    user.set_password(password)
    user.save(force_insert=True)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="user",
        object_id=user.pk,
        fields=["email", "role"] + (["branch"] if branch is not None else []),
    )
    return user


@transaction.atomic
def api_token_issue(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    raw = ApiToken.new_key()
    token = ApiToken.objects.create(
        organization=user.organization,
        user=user,
        name=name[:100],
        prefix=raw[:8],
        key_hash=hash_token(raw),
        expires_at=timezone.now() + dt.timedelta(days=settings.CLINICFLOW["API_TOKEN_TTL_DAYS"]),
    )
    audit_record(
        org=user.organization,
        actor=user,
        action=AuditAction.CREATE,
        object_type="api_token",
        object_id=token.pk,
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, user: User, raw: str, request: HttpRequest | None = None) -> bool:
    """Revoke the user's live token ``raw``; audited (``delete`` of the ``api_token``) when it was."""
    token = (
        ApiToken.objects.for_org(user.organization)
        .filter(user=user, key_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return False
    ApiToken.objects.for_org(user.organization).filter(pk=token.pk).update(revoked_at=timezone.now())
    audit_record(
        org=user.organization,
        actor=user,
        action=AuditAction.DELETE,
        object_type="api_token",
        object_id=token.pk,
        fields=["revoked_at"],
        request=request,
    )
    return True


def api_token_touch(*, org: Organization, token: ApiToken, now: dt.datetime) -> None:
    """Record that the token was used (callers limit this to once every few minutes)."""
    ApiToken.objects.for_org(org).filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


def _validate_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(
            "password: " + " ".join(exc.messages), fields={"password": exc.messages}
        ) from exc


def user_sessions_end(*, user: User, keep_session_key: str | None = None) -> int:
    """Delete every live server-side session signed in as ``user`` but ``keep_session_key``; return
    how many. (The database session store is the one Clinicflow uses; each row names its user only
    inside the signed payload, so the live rows are decoded.)"""
    doomed = [
        row.session_key
        for row in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if row.session_key != keep_session_key and str(row.get_decoded().get(SESSION_KEY)) == str(user.pk)
    ]
    return Session.objects.filter(session_key__in=doomed).delete()[0]


def api_tokens_revoke_all(*, user: User) -> int:
    return (
        ApiToken.objects.for_org(user.organization)
        .filter(user=user, revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )


def _credentials_changed(
    *, actor: User | None, user: User, fields: list[str], request: HttpRequest | None, keep: str | None = None
) -> None:
    user_sessions_end(user=user, keep_session_key=keep)
    api_tokens_revoke_all(user=user)
    audit_record(
        org=user.organization,
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="user",
        object_id=user.pk,
        fields=fields,
        request=request,
    )


@transaction.atomic
def user_set_password(
    *,
    actor: User | None,
    user: User,
    password: str,
    request: HttpRequest | None = None,
    keep_session_key: str | None = None,
) -> None:
    """Set a new password (validated); end the user's sessions but ``keep_session_key`` (the
    caller's own on a self-service change, which the view then gives a new key) and revoke their
    API tokens."""
    _validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password", "password_changed_at"])
    _credentials_changed(actor=actor, user=user, fields=["password"], request=request, keep=keep_session_key)


@transaction.atomic
def user_deactivate(
    *, org: Organization, actor: User | None, user: User, request: HttpRequest | None = None
) -> None:
    if user.organization_id != org.pk:
        raise ValidationFailed.field("user", "belongs to another organisation")
    user.is_active = False
    user.save(update_fields=["is_active"])
    _credentials_changed(actor=actor, user=user, fields=["is_active"], request=request)


@transaction.atomic
def user_set_role(
    *, org: Organization, actor: User | None, user: User, role: str, request: HttpRequest | None = None
) -> None:
    if user.organization_id != org.pk:
        raise ValidationFailed.field("user", "belongs to another organisation")
    if role not in Role.values:
        raise ValidationFailed.field("role", f"must be one of {', '.join(Role.values)}")
    user.role = role
    user.save(update_fields=["role"])
    _credentials_changed(actor=actor, user=user, fields=["role"], request=request)


@transaction.atomic
def mfa_device_confirm(*, user: User, device: TOTPDevice, request: HttpRequest | None = None) -> None:
    """Make ``device`` the user's one confirmed second factor (enrolment, or replacement of the old)."""
    replaced = TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()[0]
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(
        org=user.organization,
        actor=user,
        action=AuditAction.UPDATE if replaced else AuditAction.CREATE,
        object_type="mfa_device",
        object_id=device.pk,
        fields=["confirmed"],
        request=request,
    )


@transaction.atomic
def mfa_device_remove(*, user: User, request: HttpRequest | None = None) -> bool:
    """Remove the user's second factor (confirmed and pending); whether there was a confirmed one."""
    confirmed = list(TOTPDevice.objects.filter(user=user, confirmed=True).values_list("pk", flat=True))
    TOTPDevice.objects.filter(user=user).delete()
    if confirmed:
        audit_record(
            org=user.organization,
            actor=user,
            action=AuditAction.DELETE,
            object_type="mfa_device",
            object_id=confirmed[0],
            fields=["confirmed"],
            request=request,
        )
    return bool(confirmed)


def sign_in_event_record(
    *, user: User, action: str, request: HttpRequest | None, ok: bool = True, object_type: str = "session"
) -> None:
    """One audit row for a sign-in step of ``user``: a login or logout (``session``) or a use of the
    second factor (``mfa_code``, action ``login``); ``ok=False`` records a failure."""
    audit_record(
        org=user.organization,
        actor=user,
        action=action,
        object_type=object_type,
        object_id=user.pk,
        request=request,
        outcome=AuditOutcome.OK if ok else AuditOutcome.FAILED,
    )


def login_failure_record(*, email: object, request: HttpRequest | None) -> bool:
    """Audit a failed login (wrong password, inactive account, lockout) against the staff user whose
    e-mail was typed. The audit log is kept per organisation, so an e-mail that belongs to no staff
    user is not recorded (django-axes still counts it): no row and no user is created for it.
    Returns whether a row was written."""
    if not isinstance(email, str) or not 0 < len(email) <= 254:
        return False
    user = user_find(email=email)
    if user is None:
        return False
    sign_in_event_record(user=user, action=AuditAction.LOGIN, request=request, ok=False)
    return True
