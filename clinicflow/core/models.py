"""The tenant (Organization), its branches, the tenant-scoped base model and the audit log."""

from __future__ import annotations

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
from clinicflow.core.names import TranslatedName, names_field


def staff_ref() -> models.ForeignKey[Any, Any]:
    """The staff user who did something to a row (created it, recorded it, closed it): kept when the
    user is deleted (set to null), no reverse accessor, no index of its own (tenant indexes lead)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )


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


class Organization(TranslatedName, models.Model):
    """The tenant: a clinic or a chain of clinics. Global table."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(_("name"), max_length=200)
    name_i18n = names_field()
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
        return self.display_name


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


class Branch(TranslatedName, TenantModel):
    name = models.CharField(_("name"), max_length=200)
    name_i18n = names_field()
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
        return self.display_name

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


class AuditEventQuerySet(AppendOnlyQuerySet["AuditEvent"]):
    pass


class AuditEventManager(models.Manager["AuditEvent"]):
    """Every read carries ``seq``, the row's place in its organisation's chain (from ``AuditLink``;
    None while the row waits for the chainer), and lists rows in chain order, unchained rows last by
    time."""

    def get_queryset(self) -> AuditEventQuerySet:
        # a subquery by (organization, event), the links' unique index, computed only when used
        link = AuditLink.objects.filter(
            organization_id=models.OuterRef("organization_id"), event_id=models.OuterRef("pk")
        )
        return (
            AuditEventQuerySet(self.model, using=self._db)
            .annotate(seq=models.Subquery(link.values("seq")[:1]))  # type: ignore[no-redef]  # attribute below
            .order_by("organization", models.F("seq").asc(nulls_last=True), "at", "id")
        )

    def for_org(self, org: Organization) -> AuditEventQuerySet:
        return self.get_queryset().for_org(org)


class AuditEvent(models.Model):
    """Who did what to which record, when, from where, and the outcome.

    Append-only. ``audit_record`` inserts the row with ``tag = HMAC(key, canonical row)``; the chainer
    (``core.audit.audit_chain``) then gives it its place in the organisation's chain, an ``AuditLink``
    holding ``seq``, ``prev_hash`` and ``hash = HMAC-SHA256(key, prev_hash || canonical row)``.
    ``clinicflow verify_audit`` reports the first broken link. Only field *names* are stored,
    never values, note text or secrets."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", db_index=False)
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
    # HMAC of the canonical row without its place in the chain, made by the application when it writes
    # the row; the chainer refuses (marks) a row whose tag does not match. Empty on rows chained before
    # the chain was keyed (their links were made by the migration).
    kid = models.CharField(max_length=32, blank=True)
    tag = models.CharField(max_length=64, blank=True)

    # the row's place in the chain: annotated by the manager, set by audit_record when chained at once
    seq: int | None = None

    objects = AuditEventManager()

    class Meta:
        indexes = [
            models.Index(fields=["organization", "object_type", "object_id"], name="audit_org_object_idx"),
            models.Index(fields=["organization", "actor", "at"], name="audit_org_actor_idx"),
        ]

    def canonical(self, seq: int | None = None) -> str:
        """The row as hashed: with ``seq`` for a chain link, with ``seq`` None (omitted) for the tag."""
        data: dict[str, Any] = {
            "org": str(self.organization_id),
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
        }
        if seq is not None:
            data["seq"] = seq
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("the audit log is append-only")


class AuditLink(models.Model):
    """One link of an organisation's audit chain: the ``seq``-th row is ``event``, and
    ``hash = HMAC-SHA256(key kid, prev_hash || event.canonical(seq))``. Written only by the chainer,
    append-only like the rows themselves (ORM guards and the PostgreSQL trigger)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", db_index=False)
    seq = models.BigIntegerField()
    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="links", db_index=False)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    kid = models.CharField(max_length=32)

    objects = models.Manager.from_queryset(AppendOnlyQuerySet)()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "seq"], name="audit_link_org_seq_uniq"),
            models.UniqueConstraint(fields=["organization", "event"], name="audit_link_org_event_uniq"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("the audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("the audit log is append-only")


class AuditPending(models.Model):
    """An audit row written but not chained yet (its writer found the chain busy); the chainer links
    it and deletes this marker."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", db_index=False)
    event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, related_name="+", db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "event"], name="audit_pending_org_event_uniq"),
        ]


class AuditChainHead(models.Model):
    """The last link of each organisation's audit chain; locked by the chainer (only) while it links
    rows, so writers never wait for one another."""

    organization = models.OneToOneField(
        Organization, on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
