"""Reads for organisations and branches: every one takes the organisation."""

from __future__ import annotations

import uuid

from clinicflow.core.errors import NotFound, ValidationFailed
from clinicflow.core.models import Branch, Organization


def parse_uuid(value: object) -> uuid.UUID | None:
    """A UUID from user input, or None when it is not one (never raises)."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def organization_find(*, slug: str) -> Organization | None:
    """An organisation by its slug (commands name organisations so)."""
    return Organization.objects.filter(slug=slug).first()


def branch_get(*, org: Organization, branch_id: object) -> Branch:
    pk = parse_uuid(branch_id)
    branch = Branch.objects.for_org(org).filter(pk=pk).first() if pk else None
    if branch is None:
        raise NotFound("branch not found")
    return branch


def branch_named(*, org: Organization, branch_id: object, field: str = "branch") -> Branch | None:
    """The branch an input names (None when it names none); an unknown id is ``ValidationFailed``
    on ``field`` (a 422 in the API), not a 404: the request is fine, one of its values is not."""
    if not branch_id:
        return None
    try:
        return branch_get(org=org, branch_id=branch_id)
    except NotFound as exc:
        raise ValidationFailed.field(field, "unknown branch") from exc


def branch_find(*, org: Organization, key: str) -> Branch | None:
    """A branch by id or by slug."""
    pk = parse_uuid(key)
    if pk is not None:
        return Branch.objects.for_org(org).filter(pk=pk).first()
    return Branch.objects.for_org(org).filter(slug=key[:60]).first()


def branch_list(*, org: Organization, active_only: bool = True) -> list[Branch]:
    """The organisation's branches (the active ones unless ``active_only=False``), by name."""
    qs = Branch.objects.for_org(org)
    if active_only:
        qs = qs.filter(is_active=True)
    return list(qs.order_by("name"))
