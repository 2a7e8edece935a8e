"""Writes of the owner's settings: the scorecards' weights."""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from clinicflow.accounts.models import User
from clinicflow.analytics.models import ScorecardWeight
from clinicflow.analytics.owner.scorecards import DEPARTMENTS
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import Organization

MAX_WEIGHT = 100


def scorecard_weights_set(
    *, org: Organization, actor: User | None, weights: Mapping[str, object]
) -> dict[str, int]:
    """Set weights given as ``{"department.part": 0..100}``; every key and value is checked before
    anything is stored (a bad one names its field, nothing changes)."""
    known = {f"{d}.{p}" for d, (_label, parts) in DEPARTMENTS.items() for p, *_rest in parts}
    clean: dict[str, int] = {}
    for key, raw in weights.items():
        if key not in known:
            raise ValidationFailed.field(key, "unknown scorecard part")
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ValidationFailed.field(key, "must be a whole number from 0 to 100") from None
        if not 0 <= value <= MAX_WEIGHT:
            raise ValidationFailed.field(key, "must be a whole number from 0 to 100")
        clean[key] = value
    with transaction.atomic():
        for key, value in clean.items():
            department, part = key.split(".", 1)
            ScorecardWeight.objects.update_or_create(
                organization=org, department=department, part=part, defaults={"weight": value}
            )
    return clean
