"""The tenant (Organization), its branches, the tenant-scoped base model and the audit log."""

from __future__ import annotations

import hashlib
import json
import zoneinfo
from typing import Any, Self, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinicflow.core.ids import uuid7
from clinicflow.core.money import CURRENCIES


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("Unknown time zone: %(tz)s"), params={"tz": value}) from exc


class Region(models.TextChoices):
    RU = "RU", _("Russia")
    CN = "CN", _("China")
    EU = "EU", _("European Union")
    OTHER = "OTHER", _("Other")


class Organization(models.Model):
    """The tenant: a clinic or a chain of clinics. Global table."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166 code, e.g. RU"))
    currency = models.CharField(_("currency"), max_length=3, choices=[(c, c) for c in CURRENCIES])
    data_region = models.CharField(
        _("data region"), max_length=8, choices=Region.choices, default=Region.OTHER
    )
    default_language = models.CharField(_("default language"), max_length=10, default="en")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("organisation")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


_M = TypeVar("_M", bound=models.Model)


class TenantQuerySet(models.QuerySet[_M, _M]):
    """The one way to scope a query to a tenant: ``Model.objects.for_org(org)``."""

    def for_org(self, org: Organization) -> Self:
        return self.filter(organization=org)


# Module-level ``from_queryset`` (not a subclass of it): django-stubs then types ``Model.objects`` and
# every queryset built from it with the model, so selectors return ``Patient``, not ``Any``.
TenantManager = models.Manager.from_queryset(TenantQuerySet)


class AppendOnlyTenantQuerySet(TenantQuerySet[_M]):
    """For append-only tenant tables (consents, ledgers): no bulk update or delete through the ORM."""

    def update(self, **kwargs: Any) -> int:
        raise TypeError(f"{self.model.__name__} is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError(f"{self.model.__name__} is append-only")


AppendOnlyTenantManager = models.Manager.from_queryset(AppendOnlyTenantQuerySet)


class TenantModel(models.Model):
    """Every tenant row: a globally unique time-ordered id and a non-null organisation.

    Other foreign keys on tenant models are declared with ``db_index=False`` and covered by an
    index that starts with ``organization`` (see docs/tenancy.md). The organisation itself has no
    index of its own either: every tenant table's org-first indexes already lead with it (a test
    checks each has one), and a single-column copy only cost every insert."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", db_index=False)

    objects = TenantManager()

    class Meta:
        abstract = True


class Branch(TenantModel):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60)
    address = models.CharField(_("address"), max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2)
    timezone = models.CharField(_("time zone"), max_length=64, validators=[validate_timezone])
    currency = models.CharField(_("currency"), max_length=3, choices=[(c, c) for c in CURRENCIES])
    phone = models.CharField(_("main phone"), max_length=20, blank=True, help_text=_("E.164"))
    is_active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="branch_org_slug_uniq"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class AuditAction(models.TextChoices):
    VIEW = "view", _("view")
    LIST = "list", _("list")
    CREATE = "create", _("create")
    UPDATE = "update", _("update")
    DELETE = "delete", _("delete")
    MERGE = "merge", _("merge")
    EXPORT = "export", _("export")
    LOGIN = "login", _("login")
    LOGOUT = "logout", _("logout")


class AuditOutcome(models.TextChoices):
    OK = "ok", _("ok")
    DENIED = "denied", _("denied")
    NOT_FOUND = "not_found", _("not found")
    FAILED = "failed", _("failed")


class AppendOnlyQuerySet(TenantQuerySet[_M]):
    """The audit log's queryset: scoped like a tenant table, never updated or deleted."""

    def update(self, **kwargs: Any) -> int:
        raise TypeError("the audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("the audit log is append-only")


AuditEventManager = models.Manager.from_queryset(AppendOnlyQuerySet)


class AuditEvent(models.Model):
    """Who did what to which record, when, from where, and the outcome.

    Append-only and hash-chained per organisation: ``hash = sha256(prev_hash || canonical row)``.
    ``clinicflow verify_audit`` reports the first broken link. Only field *names* are stored,
    never values, note text or secrets."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", db_index=False)
    seq = models.BigIntegerField()
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, db_index=False
    )
    actor_email = models.CharField(max_length=254, blank=True)
    role = models.CharField(max_length=20, blank=True)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64, blank=True)
    fields = models.JSONField(default=list, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=16, choices=AuditOutcome.choices, default=AuditOutcome.OK)
    break_glass = models.BooleanField(default=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventManager()

    class Meta:
        ordering = ["organization", "seq"]
        constraints = [models.UniqueConstraint(fields=["organization", "seq"], name="audit_org_seq_uniq")]
        indexes = [
            models.Index(fields=["organization", "object_type", "object_id"], name="audit_org_object_idx"),
            models.Index(fields=["organization", "actor", "at"], name="audit_org_actor_idx"),
        ]

    def canonical(self) -> str:
        return json.dumps(
            {
                "org": str(self.organization_id),
                "seq": self.seq,
                "at": self.at.isoformat(),
                "actor": str(self.actor_id or ""),
                "actor_email": self.actor_email,
                "role": self.role,
                "action": self.action,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "fields": list(self.fields or []),
                "ip": self.ip or "",
                "ua": self.user_agent,
                "outcome": self.outcome,
                "break_glass": self.break_glass,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    def compute_hash(self) -> str:
        return hashlib.sha256((self.prev_hash + self.canonical()).encode()).hexdigest()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("the audit log is append-only")


class AuditChainHead(models.Model):
    """The last link of each organisation's audit chain; locked while a row is appended."""

    organization = models.OneToOneField(
        Organization, on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
