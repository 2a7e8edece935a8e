"""Writes for staff accounts and API tokens."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from clinicflow.accounts.models import ApiToken, User, hash_token
from clinicflow.accounts.roles import Role
from clinicflow.accounts.selectors import user_email_taken
from clinicflow.core.audit import audit_record
from clinicflow.core.errors import Conflict, ValidationFailed
from clinicflow.core.models import AuditAction, Organization


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
) -> User:
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationFailed.field("role", f"must be one of {', '.join(Role.values)}")
    if not email or "@" not in email:
        raise ValidationFailed.field("email", "is not a valid e-mail address")
    if user_email_taken(email=email):
        raise Conflict(f"a user with e-mail {email} already exists", fields={"email": ["already exists"]})
    user = User(organization=org, email=email, role=role, full_name=full_name, is_consultant=is_consultant)
    if validate:
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            raise ValidationFailed(
                "password: " + " ".join(exc.messages), fields={"password": exc.messages}
            ) from exc
    user.set_password(password)
    user.save(force_insert=True)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="user",
        object_id=user.pk,
        fields=["email", "role"],
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


def api_token_revoke(*, user: User, raw: str) -> bool:
    return bool(
        ApiToken.objects.for_org(user.organization)
        .filter(user=user, key_hash=hash_token(raw), revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )


def api_token_touch(*, org: Organization, token: ApiToken, now: dt.datetime) -> None:
    """Record that the token was used (callers limit this to once every few minutes)."""
    ApiToken.objects.for_org(org).filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
