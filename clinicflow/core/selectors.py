"""Reads for organisations and branches: every one takes the organisation."""

from __future__ import annotations

import uuid

from clinicflow.core.errors import NotFound
from clinicflow.core.models import Branch, Organization


def parse_uuid(value: object) -> uuid.UUID | None:
    """A UUID from user input, or None when it is not one (never raises)."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def branch_get(*, org: Organization, branch_id: object) -> Branch:
    pk = parse_uuid(branch_id)
    branch = Branch.objects.for_org(org).filter(pk=pk).first() if pk else None
    if branch is None:
        raise NotFound("branch not found")
    return branch


def branch_find(*, org: Organization, key: str) -> Branch | None:
    """A branch by id or by slug."""
    pk = parse_uuid(key)
    if pk is not None:
        return Branch.objects.for_org(org).filter(pk=pk).first()
    return Branch.objects.for_org(org).filter(slug=key[:60]).first()


def branch_list(*, org: Organization) -> list[Branch]:
    """The organisation's active branches, by name."""
    return list(Branch.objects.for_org(org).filter(is_active=True).order_by("name"))
