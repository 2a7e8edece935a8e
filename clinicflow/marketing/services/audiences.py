"""Writes of audiences: a saved segment, its filters checked before anything is stored."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from clinicflow.core.audit import audit_record
from clinicflow.core.errors import ValidationFailed
from clinicflow.core.models import AuditAction, Organization
from clinicflow.marketing.models import Audience
from clinicflow.marketing.selectors.audiences import RECALL_BOTULINUM, audience_patients, check_filters


@transaction.atomic
def audience_create(
    *, org: Organization, actor: AbstractBaseUser | None, name: str, filters: dict[str, Any]
) -> Audience:
    if not name.strip() or len(name) > 200:
        raise ValidationFailed.field("name", "is required, at most 200 characters")
    checked = check_filters(filters)
    audience_patients(org=org, filters=checked)  # builds (never runs) the query: every value checked
    audience = Audience.objects.create(organization=org, name=name.strip(), filters=checked)
    audit_record(
        org=org,
        actor=actor,
        action=AuditAction.CREATE,
        object_type="audience",
        object_id=audience.pk,
        fields=["name", "filters"],
    )
    return audience


def recall_preset_create(*, org: Organization, actor: AbstractBaseUser | None, name: str) -> Audience:
    """The recall audience: botulinum therapy more than 5 months ago, no booking since."""
    return audience_create(org=org, actor=actor, name=name, filters=dict(RECALL_BOTULINUM))
