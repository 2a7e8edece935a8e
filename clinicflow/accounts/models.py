"""Staff accounts. Each staff user belongs to one organisation and has one role."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.accounts.roles import Role, has_permission
from clinicflow.core.ids import uuid7
from clinicflow.core.models import Branch, Organization, TenantModel


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username or "")

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", db_index=False)
    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_consultant = models.BooleanField(_("also consults"), default=False)
    language = models.CharField(_("language"), max_length=10, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    mfa_required = models.BooleanField(_("two-factor authentication required"), default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    # A user tied to a branch opens the cards of that branch's patients (and of patients with no
    # branch) only; others need an emergency grant. Empty: every branch of the organisation.
    branch = models.ForeignKey(
        Branch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("branch"),
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("staff user")
        indexes = [models.Index(fields=["organization", "role"], name="user_org_role_idx")]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def is_staff(self) -> bool:  # Django admin is not installed; nobody is platform staff.
        return False

    def has_perm_cf(self, permission: str) -> bool:
        return self.is_active and has_permission(self.role, permission)

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(TenantModel):
    """A bearer token for the REST API. Only its SHA-256 is stored; revocable; expiring."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", db_index=False)
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "user"], name="apitoken_org_user_idx")]

    @staticmethod
    def new_key() -> str:
        return "cf_" + secrets.token_urlsafe(32)

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class BreakGlassGrant(TenantModel):
    """An emergency ("break-glass") grant: ``user`` may see the patient ``patient_id`` beyond their
    role or branch until ``expires_at`` (or ``revoked_at``), for the ``reason`` they gave (AC-05).

    The patient is named by id only: accounts sits below patients, which checks that the id is one
    of the organisation's patients before a grant is opened. Every access under the grant is audited
    with ``break_glass=true`` and counted in ``access_count``."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", db_index=False)
    patient_id = models.UUIDField()
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    access_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "user", "patient_id"], name="breakglass_org_user_pat_idx"),
            models.Index(fields=["organization", "-created_at"], name="breakglass_org_created_idx"),
        ]

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.created_at <= now < self.expires_at
