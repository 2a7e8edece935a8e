"""Input checks every booking service shares: the organisation of each object, text, aware times."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from clinicflow.accounts.models import User
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import Organization


def same_org(org: Organization, **objs: Any) -> None:
    """Every object given (None allowed) belongs to ``org``; otherwise a 422 naming it as unknown."""
    for name, obj in objs.items():
        if obj is not None and obj.organization_id != org.id:
            raise ValidationFailed.field(name, f"unknown {name}")


def clean_text(value: str, name: str, max_len: int, *, required: bool = True) -> str:
    """The stripped text, required and at most ``max_len`` characters."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed.field(name, "is required")
    if len(value) > max_len:
        raise ValidationFailed.field(name, f"at most {max_len} characters")
    return value


def aware_utc(value: dt.datetime, name: str) -> dt.datetime:
    """An aware datetime in UTC; a naive one (or not a datetime) is a 422 naming the field."""
    if not isinstance(value, dt.datetime):
        raise ValidationFailed.field(name, "must be a date and time")
    if timezone.is_naive(value):
        raise ValidationFailed.field(name, "must include a time zone offset")
    return value.astimezone(dt.UTC)


def actor_or_none(actor: User | None) -> User | None:
    """The staff user to store as the author (None for patients and system writes)."""
    return actor if actor is not None and actor.pk else None
